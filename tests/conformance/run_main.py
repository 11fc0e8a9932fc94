# Seed 003 ("ASYNCIO"), "asyncio.run()": hello after a second. Fixed: import asyncio added.
import asyncio

async def main():
    await asyncio.sleep(1)
    print('hello')

asyncio.run(main())
