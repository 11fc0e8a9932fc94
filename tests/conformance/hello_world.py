# Seed 001 ("Python: AsyncIO"), "Coroutines & Tasks": Hello World. Unchanged.
import asyncio

# This is not a typical function now, but a coroutine!
async def main():
	print("Hello World!")

# Run the coroutine
asyncio.run(main())
