# Seed 004 ("Async programming in python"), "Top level asyncio functions": as_completed over two
# tasks. Fixed: the seed's print(futures) prints a name defined nowhere (a NameError); the line
# is dropped.
import asyncio

async def async_coroutine(id):
    await asyncio.sleep(1)
    print(f"Inside coroutine with id:{id}")
    return id

async def main():
    task1 = asyncio.create_task(async_coroutine(1))
    task2 = asyncio.create_task(async_coroutine(2))
    # (The seed's print(futures) was here: no futures is defined.)
    # as_completed returns an iterator of coroutines.
    # we will get the results in the order in which the coroutines complete
    for async_task in asyncio.as_completed([task1, task2]):
        result = await async_task
        print(f"Task result: {result}")

    print(all([task1.done(), task2.done()]))

asyncio.run(main())
