import ArgumentParser
import SovereignCLI

/// In an `async` function the asynchronous `main` is chosen; top-level code would pick the synchronous one.
func runSovereign() async {
    await Sovereign.main(nil)
}

await runSovereign()
