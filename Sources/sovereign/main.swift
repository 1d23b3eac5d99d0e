import ArgumentParser
import SovereignCLI

Sovereign.main()
