# Seed 004, "async for and asynchronous comprehensions" (import asyncio added).
import asyncio

# async generators
async def mygen(b, n):
    i = 0
    while i < n:
        print("Yielding a value")
        yield b ** i
        i += 1
        # Here the task will give the control to event loop
        await asyncio.sleep(1)
        print("Back after sleeping")

# async for indicates that after calling the next on the
# async generator, CPU control will be given back to the event loop
# because the generator goes into await on some IO
async def async_driver():
    # async comprehensions
    g = [i async for i in mygen(2,10)]

    # async for
    async for j in mygen(3, 5):
        print(j)
    return g

asyncio.run(async_driver())
