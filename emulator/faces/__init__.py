"""The faces over the core: the ASGI app, the uvicorn server, the CLI, the respx mock and the
controller (the Python twin of the control plane). Internal: import public names from
`together_eval_emulator`."""
