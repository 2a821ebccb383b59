"""The reader daemon: session engine, runner, host link, passcode store, config, audit, CLI."""
