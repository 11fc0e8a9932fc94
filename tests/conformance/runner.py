# Seed 003 ("ASYNCIO"), "asyncio.Runner()". Fixed: import asyncio added.
import asyncio

async def main():
    await asyncio.sleep(1)
    print('hello')

with asyncio.Runner() as runner:
    runner.run(main())
