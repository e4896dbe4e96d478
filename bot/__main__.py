"""`python -m bot` runs the pixelbot command."""

from bot.cli import main

main()
