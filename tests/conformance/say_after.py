# Seed 003 ("ASYNCIO"), "COROUTINES - PRACTICALS": say_after. Fixed: the seed never runs
# main(); asyncio.run(main()) added.
import asyncio
import time

async def say_after(delay, what):
  await asyncio.sleep(delay)
  print(what)

async def main():
  print(f"started at {time.strftime('%X')}")

  await say_after(1, 'hello')
  await say_after(2, 'world')

  print(f"finished at {time.strftime('%X')}")

asyncio.run(main())
