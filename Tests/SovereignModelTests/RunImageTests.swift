import SovereignModel
import SovereignTesting
import Testing

/// `run: {image, command, env}`: a workload that runs as a container on a Kubernetes site.
struct RunImageTests {
    static let digest = String(repeating: "ab", count: 32)
    static let withImage = Fixtures.constantFleet.replacingOnce(
        "  deadline: 2026-03-06T00:00:00Z\n",
        with: """
              deadline: 2026-03-06T00:00:00Z
              run: {image: "registry.example:5000/health/train:1.4", command: [--epochs, "3"], env: {LR: "0.1"}}

            """
    )

    @Test func anImageWithArgumentsDecodes() throws {
        let run = try #require(try Fixtures.load(Self.withImage).workload(named: "finetune")?.run)
        #expect(run.image == "registry.example:5000/health/train:1.4")
        #expect(run.command == ["--epochs", "3"])
        #expect(run.environment == ["LR": "0.1"])
        #expect(run.gracePeriod == Workload.Run.defaultGracePeriod)
    }

    @Test func anImageAloneRunsItsOwnCommand() throws {
        let yaml = Self.withImage.replacingOnce(#", command: [--epochs, "3"]"#, with: "")
        let run = try #require(try Fixtures.load(yaml).workload(named: "finetune")?.run)
        #expect(run.command.isEmpty)
        #expect(run.image == "registry.example:5000/health/train:1.4")
    }

    @Test func aCommandWithoutAnImageIsAProcess() throws {
        let yaml = Self.withImage.replacingOnce(#"image: "registry.example:5000/health/train:1.4", "#, with: "")
        let run = try #require(try Fixtures.load(yaml).workload(named: "finetune")?.run)
        #expect(run.image == nil)
        #expect(run.command == ["--epochs", "3"])
    }

    static let cases: [RuleCase] = [
        RuleCase(
            "image-bad-tag",
            replace: "train:1.4",
            with: "train:-1.4",
            expect: [
                #"fleet.yaml:54:16: error: spec.run.image: expected an OCI image reference like registry.example/team/train:1.4, found "registry.example:5000/health/train:-1.4" (the tag "-1.4" is not letters, digits, '_', '.', '-' (not starting with '.' or '-'))"#
            ]
        ),
        RuleCase(
            "image-uppercase-path",
            replace: "health/train",
            with: "Health/train",
            expect: [
                #"fleet.yaml:54:16: error: spec.run.image: expected an OCI image reference like registry.example/team/train:1.4, found "registry.example:5000/Health/train:1.4" (the path component "Health" is not lowercase letters and digits joined by '.', '_', '__' or '-')"#
            ]
        ),
        RuleCase(
            "image-bad-port",
            replace: "example:5000/",
            with: "example:http/",
            expect: [
                #"fleet.yaml:54:16: error: spec.run.image: expected an OCI image reference like registry.example/team/train:1.4, found "registry.example:http/health/train:1.4" (the registry port "http" is not a number)"#
            ]
        ),
        RuleCase(
            "image-short-digest",
            replace: "train:1.4",
            with: "train@sha256:abc",
            expect: [
                #"fleet.yaml:54:16: error: spec.run.image: expected an OCI image reference like registry.example/team/train:1.4, found "registry.example:5000/health/train@sha256:abc" (the digest "sha256:abc" has fewer than 32 hex digits after its algorithm)"#
            ]
        ),
        RuleCase(
            "image-not-a-string",
            replace: #"image: "registry.example:5000/health/train:1.4""#,
            with: "image: [train]",
            expect: [
                "fleet.yaml:54:16: error: spec.run.image: expected an OCI image reference like registry.example/team/train:1.4, found a list"
            ]
        ),
        RuleCase(
            "arguments-empty",
            replace: #"command: [--epochs, "3"]"#,
            with: "command: []",
            expect: [
                "fleet.yaml:54:67: error: spec.run.command: expected at least one argument (or no command: the image's own), found an empty list"
            ]
        ),
        RuleCase(
            "arguments-not-strings",
            replace: #"command: [--epochs, "3"]"#,
            with: "command: {epochs: 3}",
            expect: [
                "fleet.yaml:54:67: error: spec.run.command: expected a list of the container's arguments, like [python3, train.py], found a mapping"
            ]
        ),
        RuleCase(
            "no-command-no-image",
            replace: #"image: "registry.example:5000/health/train:1.4", command: [--epochs, "3"], "#,
            with: "",
            expect: [
                "fleet.yaml:54:8: error: spec.run.command: expected the program and its arguments, like [python3, train.py], found nothing"
            ]
        ),
        RuleCase(
            "unknown-run-field",
            replace: "env: {",
            with: "args: [x], env: {",
            expect: [
                #"fleet.yaml:54:84: error: spec.run.args: expected a field of run (command, image, env, gracePeriod, attempts), found unknown field "args""#
            ]
        ),
    ]

    @Test(arguments: cases)
    func rule(_ rule: RuleCase) {
        #expect(
            Fixtures.diagnostics(Self.withImage.replacingOnce(rule.target, with: rule.replacement)) == rule.expected
        )
    }

    static let references: [(String, String?)] = [
        ("python:3.12-slim", nil),
        ("train", nil),
        ("localhost/train", nil),
        ("localhost:5000/a/b/c:v1_2.3-rc", nil),
        ("ghcr.io/org/job@sha256:\(digest)", nil),
        ("ghcr.io/org/job:1.0@sha256:\(digest)", nil),
        ("a__b/c---d/e.f", nil),
        ("", "it is empty"),
        ("train job", "it has a space"),
        ("a/b:", "the tag after ':' is empty"),
        ("-a", "the path component \"-a\" is not lowercase letters and digits joined by '.', '_', '__' or '-'"),
        ("a___b", "the path component \"a___b\" is not lowercase letters and digits joined by '.', '_', '__' or '-'"),
        ("a//b", "it has an empty path component"),
        ("reg-.io/a", "the registry \"reg-.io\" is not a host name"),
        ("a@md5", "the digest \"md5\" is not ALGORITHM:HEX"),
        ("a@sha256:\(String(repeating: "a", count: 40))", "the sha256 digest has 40 hex digits, not 64"),
        ("r.io/" + String(repeating: "a", count: 251), "the name is longer than 255 characters"),
    ]

    @Test(arguments: references)
    func reference(_ text: String, _ problem: String?) {
        #expect(ImageReference.problem(in: text) == problem)
    }
}
