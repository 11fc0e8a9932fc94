# Seed 003 ("ASYNCIO"), "AWAITABLE OBJECTS": nested() -> 42. Fixed: import asyncio added.
import asyncio

async def nested():
    return 42

async def main():
    # Nothing happens if we just call "nested()".
    # A coroutine object is created but not awaited,
    # so it *won't run at all*.
    nested()

    print(await nested())

asyncio.run(main())
