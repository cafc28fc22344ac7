"""The domain: clock, ids, store, lifecycle, jobs, files, datasets, results, scenarios, fault rules,
journal and snapshot. No HTTP library is imported here (a test checks it). Internal: import public
names from `together_eval_emulator`."""
