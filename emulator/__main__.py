"""`python -m together_eval_emulator`: the command line (as `together-eval-emulator`)."""

import sys

# Run under another name (`python -m emulator` in a checkout), the package's stored records would name
# modules no other server reads: it could not share a store, nor read its own records after a restart.
if __package__ != "together_eval_emulator":
    sys.exit(
        f"Run the emulator as `python -m together_eval_emulator` (or `together-eval-emulator`), not {__package__}."
    )

from .faces._program import main  # noqa: E402 (after the check above)

sys.exit(main())
