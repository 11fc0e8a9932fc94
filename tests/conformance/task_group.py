# Seed 003 ("ASYNCIO"), "asyncio.TaskGroup": two tasks in a group. Fixed: the seed's main() is a
# fragment: coro1 and coro2 are defined here (each sleeps and prints), create_task() is given
# the coroutines coro1() and coro2() (the seed passes the functions, a TypeError), the last
# print's closing quote is added, and main() is run with asyncio.run(); import asyncio added.
import asyncio


async def coro1():
    print('coro1 started')
    await asyncio.sleep(1)
    print('coro1 finished')


async def coro2():
    print('coro2 started')
    await asyncio.sleep(2)
    print('coro2 finished')


async def main():
    async with asyncio.TaskGroup() as tg:
        task1 = tg.create_task(coro1())
        task2 = tg.create_task(coro2())
    print('Both tasks have completed now.')

asyncio.run(main())
