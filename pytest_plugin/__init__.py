"""pytest plugin for together-eval-emulator (fixtures arrive with the plugin issue)."""
