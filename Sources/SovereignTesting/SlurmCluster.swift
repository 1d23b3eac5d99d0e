public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real one-node Slurm cluster on loopback for a test (`Scripts/slurm-cluster.sh`: its own munged,
/// slurmctld and slurmd, on ports nothing else listens on, with everything under `directory`), stopped by
/// the process ids the script recorded.
public final class SlurmCluster: Sendable {
    /// Where its configuration, state, spool, logs and pid files are.
    public let directory: URL
    /// Its `slurm.conf`, for `SLURM_CONF` or `site-agent --slurm-conf`.
    public let configuration: String

    /// The Debian packages that hold what the cluster needs.
    public static let packages = "slurmctld slurmd slurm-client munge"

    /// Starts a cluster in `directory` whose node is called `node`, and waits until the node is idle.
    ///
    /// - Throws: ``Failure`` when Slurm or munge is not installed (saying what to install) or the cluster
    ///   does not come up (with what the script printed).
    public init(in directory: URL, node: String) throws {
        let missing = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo"].filter { program in
            !["/usr/bin", "/usr/sbin", "/bin", "/sbin"].contains {
                FileManager.default.isExecutableFile(atPath: "\($0)/\(program)")
            }
        }
        guard missing.isEmpty else {
            throw Failure(
                description:
                    "Slurm is not installed (missing \(missing.joined(separator: ", "))): run .ci/run, or apt-get install -y \(Self.packages)"
            )
        }
        self.directory = directory
        self.configuration = directory.appendingPathComponent("slurm.conf").path
        let ports = try [Fixtures.freePort(), Fixtures.freePort()]
        let (status, printed) = try Self.script(["start", directory.path, String(ports[0]), String(ports[1]), node])
        guard status == 0 else {
            throw Failure(description: "Scripts/slurm-cluster.sh start exited with status \(status): \(printed)")
        }
    }

    /// Stops its daemons by the process ids the script recorded.
    public func stop() { _ = try? Self.script(["stop", directory.path]) }

    /// Runs a Slurm client against this cluster; returns its exit status and what it printed.
    public func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try Self.execute(["/usr/bin/env", "SLURM_CONF=\(configuration)"] + arguments)
    }

    /// The ids of the jobs it still holds (waiting, running or ending).
    public func queuedJobs() throws -> [String] {
        let (status, output) = try run(["squeue", "--noheader", "--format=%i"])
        guard status == 0 else { throw Failure(description: "squeue exited with status \(status): \(output)") }
        return output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    static func script(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try execute([Fixtures.repositoryRoot.appendingPathComponent("Scripts/slurm-cluster.sh").path] + arguments)
    }

    /// Runs a program to its end. Its output goes to a file, not a pipe: the daemons the script leaves
    /// running inherit the descriptors it was given, so a pipe would never reach its end.
    static func execute(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-\(UUID().uuidString).out")
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw Failure(description: "cannot create \(file.path)")
        }
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try FileHandle(forWritingTo: file)
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: file, encoding: .utf8)) ?? "")
    }

    /// Why a cluster could not be had.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }
}

extension Fixtures {
    /// A TCP port on 127.0.0.1 that nothing listens on now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw SlurmCluster.Failure(description: "cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
