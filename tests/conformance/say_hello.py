# Seed 004 ("Async programming in python"): say_hello, type() of a coroutine object. Unchanged.
import asyncio

# say_hello is a native coroutine
async def say_hello(name: str) -> None:
    # wait and say hello
    # Notice await causes the task to stop at sleep
    # and resume again when the sleep gets completed.
    await asyncio.sleep(1)
    print(f"Hello, {name}")

say_hello_obj = say_hello("John")
# This prints coroutine
print(type(say_hello_obj))

# to run the method use asyncio.run
asyncio.run(say_hello_obj)
