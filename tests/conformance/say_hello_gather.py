# Seed 004 ("Async programming in python"): say_hello whose asyncio.sleep(1) is never awaited,
# gathered over three names. Unchanged (the seed then redefines say_hello with time.sleep(1)
# but never calls it; that part is kept).
import asyncio

async def say_hello(name: str) -> None:
    # Async operation is not carried out
    # raises a warning 'sleep was never awaited'
    asyncio.sleep(1)
    print(f"Hello, {name}")

async def async_tasks(names):
    await asyncio.gather(*[say_hello(name) for name in names])

# This prints the greetings to the names in order
# without sleeping
asyncio.run(async_tasks(["John", "Jane", "Alice"]))

# Using synchronous operations inside an async method
# will also make it behave like a synchronous method
# because the task will yield its control only when
# an await is encountered
import time
async def say_hello(name: str) -> None:
    # Async operation is not carried out
    # raises a warning 'sleep was never awaited'
    time.sleep(1)
    print(f"Hello, {name}")
