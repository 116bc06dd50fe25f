// Which OpenBLAS kernels run, and the choice of a better one when OpenBLAS falls back to a generic
// core on a CPU it does not know (Debian's 0.3.21 runs Prescott/SSE3 kernels on new Intel Xeons with
// AVX-512). OpenBLAS reads OPENBLAS_CORETYPE once, when the library loads, so the choice takes effect
// by re-executing the process with the variable set (tokbench's entry point does that).
// A variable already set is never touched: some machines set it because older OpenBLAS builds
// compute wrong results on their CPUs.
import CBLAS
import Foundation

public enum BLASKernel {
    /// Instruction-set level of a kernel family or of a CPU.
    public enum ISA: Int, Comparable, Sendable, CustomStringConvertible {
        case sse = 0, avx = 1, avx2 = 2, avx512 = 3
        public static func < (a: ISA, b: ISA) -> Bool { a.rawValue < b.rawValue }
        public var description: String { ["SSE", "AVX", "AVX2+FMA", "AVX-512"][rawValue] }
    }

    /// Set beside OPENBLAS_CORETYPE when tokbench chose the core itself (so the record can tell).
    public static let chosenMarker = "TOKBENCH_OPENBLAS_CORETYPE_CHOSEN"

    /// How the running core came about: "detected" (OpenBLAS's own detection), "environment"
    /// (OPENBLAS_CORETYPE set outside tokbench) or "tokbench" (chosen by `selectBetterKernelIfNeeded`).
    public static var coreSource: String {
        let env = ProcessInfo.processInfo.environment
        guard let v = env["OPENBLAS_CORETYPE"], !v.isEmpty else { return "detected" }
        return env[chosenMarker] == v ? "tokbench" : "environment"
    }

    /// The core OpenBLAS is running ("Prescott", "Haswell", "SkylakeX", "Cooperlake", …).
    public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// OpenBLAS's build configuration ("OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64").
    public static var config: String { openblas_get_config().map { String(cString: $0) } ?? "unknown" }

    /// The ISA level of the kernels OpenBLAS uses for a core name (x86-64 names of OpenBLAS's
    /// DYNAMIC_ARCH build). nil for a name this table does not know: then nothing is changed.
    public static func isaLevel(core: String) -> ISA? {
        switch core.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return .avx512
        case "haswell", "zen", "excavator": return .avx2
        case "sandybridge", "bulldozer", "piledriver", "steamroller": return .avx
        case "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine",
             "northwood", "banias", "opteron", "opteron_sse3", "barcelona", "bobcat", "nano", "unknown":
            return .sse
        default: return nil
        }
    }

    /// The CPU's level from its /proc/cpuinfo flags (they list only what the kernel lets user code use).
    public static func cpuLevel(flags: Set<String>) -> ISA {
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return .avx512 }
        if flags.contains("avx2") && flags.contains("fma") { return .avx2 }
        if flags.contains("avx") { return .avx }
        return .sse
    }

    /// The core to select, or nil to leave OpenBLAS as it is. Only a generic fallback core
    /// (below AVX) on a CPU with AVX2 + FMA or AVX-512 is replaced, and never when the variable is set.
    public static func choice(environmentValue: String?, core: String, cpu: ISA) -> String? {
        if let v = environmentValue, !v.isEmpty { return nil }
        guard let running = isaLevel(core: core), running < .avx, cpu >= .avx2 else { return nil }
        return cpu >= .avx512 ? "SkylakeX" : "Haswell"
    }

    /// This process's decision (reads OPENBLAS_CORETYPE, the running core and /proc/cpuinfo).
    /// /proc/cpuinfo is read only when the running core is a generic one (every command asks at start-up).
    public static func choiceForThisProcess() -> String? {
        let env = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], core = coreName
        guard choice(environmentValue: env, core: core, cpu: .avx512) != nil else { return nil }
        return choice(environmentValue: env, core: core, cpu: cpuLevel(flags: CPUInfo.current.flags))
    }

    /// Re-executes this program with OPENBLAS_CORETYPE set when `choiceForThisProcess` picks a core,
    /// saying so once on stderr. Returns only when nothing is to be done (or the exec failed).
    public static func selectBetterKernelIfNeeded(programName: String) {
        guard let core = choiceForThisProcess() else { return }
        let message = "\(programName): OpenBLAS fell back to its generic \(coreName) kernels on this CPU "
            + "(\(cpuLevel(flags: CPUInfo.current.flags))); running with OPENBLAS_CORETYPE=\(core)\n"
        FileHandle.standardError.write(Data(message.utf8))
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(chosenMarker, core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // exec failed: carry on with the kernels we have.
    }
}

/// What /proc/cpuinfo says of the first processor.
public struct CPUInfo: Sendable {
    public var model: String
    public var flags: Set<String>

    public static let current: CPUInfo = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return CPUInfo(model: "unknown", flags: []) }
        return parse(text)
    }()

    public static func parse(_ text: String) -> CPUInfo {
        var model = "unknown", flags: Set<String> = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces), value = parts[1].trimmingCharacters(in: .whitespaces)
            if key == "model name" && model == "unknown" { model = value }
            if key == "flags" && flags.isEmpty { flags = Set(value.split(separator: " ").map(String.init)) }
            if model != "unknown" && !flags.isEmpty { break }
        }
        return CPUInfo(model: model, flags: flags)
    }
}
