// The compute environment a run was measured on. Results differ in their last digits between BLAS
// kernels (and those differences grow through training), so every run records this with its results.
import Foundation

public struct ComputeEnvironment: Sendable, Equatable {
    public var cpu: String          // /proc/cpuinfo model name
    public var cores: Int           // online processors
    public var threads: Int         // worker threads tokbench uses (parallel loops and OpenBLAS)
    public var blas: String         // OpenBLAS build configuration
    public var blasCore: String     // the kernels OpenBLAS runs
    public var blasCoreSource: String   // detected | environment | tokbench (see BLASKernel.coreSource)
    public var swift: String        // compiler that built tokbench
    public var os: String           // PRETTY_NAME of /etc/os-release and the kernel release

    /// The environment of this process now.
    public static func current() -> ComputeEnvironment {
        ComputeEnvironment(cpu: CPUInfo.current.model, cores: ProcessInfo.processInfo.activeProcessorCount,
                           threads: Threading.workers, blas: BLASKernel.config, blasCore: BLASKernel.coreName,
                           blasCoreSource: BLASKernel.coreSource, swift: swiftVersion, os: osDescription)
    }

    /// Key/value pairs, keys prefixed `env.` (stored as run params; `tokbench env` prints them).
    public var pairs: [(key: String, value: String)] {
        [("env.cpu", cpu), ("env.cores", String(cores)), ("env.threads", String(threads)), ("env.blas", blas),
         ("env.blas_core", blasCore), ("env.blas_core_source", blasCoreSource), ("env.swift", swift), ("env.os", os)]
    }

    /// One line for reports and logs: "AMD EPYC, 2 cores, 2 threads, OpenBLAS 0.3.21 (Cooperlake), Swift 6.3, Debian 12".
    public var summary: String {
        let version = blas.split(separator: " ").prefix(2).joined(separator: " ")
        return "\(cpu), \(cores) core\(cores == 1 ? "" : "s"), \(threads) thread\(threads == 1 ? "" : "s"), \(version) (\(blasCore)), \(swift), \(os)"
    }

    static var swiftVersion: String {
        #if compiler(>=6.5)
        return "Swift ≥ 6.5"
        #elseif compiler(>=6.4)
        return "Swift 6.4"
        #elseif compiler(>=6.3)
        return "Swift 6.3"
        #elseif compiler(>=6.2)
        return "Swift 6.2"
        #else
        return "Swift < 6.2"
        #endif
    }

    static var osDescription: String {
        var name = "unknown OS"
        if let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) {
            for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
                name = String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        return "\(name), Linux \(release)"
    }
}

extension ComputeEnvironment {
    /// The environment recorded with a run, read back from its params (nil when it was not recorded).
    public init?(params: [String: String]) {
        guard let cpu = params["env.cpu"] else { return nil }
        self.init(cpu: cpu, cores: params["env.cores"].flatMap(Int.init) ?? 0, threads: params["env.threads"].flatMap(Int.init) ?? 0,
                  blas: params["env.blas"] ?? "?", blasCore: params["env.blas_core"] ?? "?",
                  blasCoreSource: params["env.blas_core_source"] ?? "?", swift: params["env.swift"] ?? "?", os: params["env.os"] ?? "?")
    }
}
