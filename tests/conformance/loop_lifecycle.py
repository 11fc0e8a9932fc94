# Seed 001 ("Python: AsyncIO"), "Event Loops": get_event_loop, try/run_until_complete,
# finally/close. Fixed: the seed has no main(), so this one is the coffee/bagel main() of the
# same tutorial; is_running() and is_closed() are printed (the seed discards them; its comment
# says is_running() returns True, but outside run_until_complete it returns False).
from asyncio import AbstractEventLoop	# Import `AbstractEventLoop` for type-hints
import asyncio

async def brew_coffee() -> str:
	print("Start brewing coffee...")
	await asyncio.sleep(3)
	print("Done brewing coffee.")
	return "Coffee is ready!"

async def toast_bagel() -> str:
	print("Start toasting bagel...")
	await asyncio.sleep(3)
	print("Done toasting bagel.")
	return "Bagel is ready!"

async def main():
	coffee_result, bagel_result = await asyncio.gather(brew_coffee(), toast_bagel())
	print(coffee_result, bagel_result)

# Instantiate the loop
loop: AbstractEventLoop = asyncio.get_event_loop()

# Run the loop in a `try` bloc
try:
	print("is_running():", loop.is_running())	# Returns `False`: the loop is not running yet
	loop.run_until_complete(main())
finally:
	loop.close()
	print("is_closed():", loop.is_closed())	# Returns `True`
