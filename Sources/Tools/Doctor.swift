import Foundation
import Datasets
import Store
import Kernels

/// Health checks in plain words: the results database, the data, the system libraries.
public enum Doctor {
    /// `ok` false is a problem (non-zero exit); a warning is worth knowing but not a failure.
    public struct Finding {
        public let ok: Bool; public let warning: Bool; public let what: String
        init(ok: Bool, warning: Bool = false, what: String) { self.ok = ok; self.warning = warning; self.what = what }
    }

    public static func check(databasePath: String) -> [Finding] {
        var out: [Finding] = []
        let fm = FileManager.default
        if fm.fileExists(atPath: databasePath) {
            do {
                let store = try ResultStore(path: databasePath, mustExist: true)
                let verdict = try store.integrityCheck()
                out.append(Finding(ok: verdict == "ok", what: "database \(databasePath): integrity_check says \(verdict)"))
                out.append(Finding(ok: true, what: "database journal mode: \(try store.journalMode())"))
                let counts = try store.runCountsByStatus()
                out.append(Finding(ok: true, what: "runs: " + (counts.isEmpty ? "none" : counts.map { "\($0.count) \($0.status)" }.joined(separator: ", "))))
                let stale = counts.first { $0.status == RunStatus.running.rawValue }?.count ?? 0
                if stale > 0 { out.append(Finding(ok: true, what: "\(stale) run(s) marked running (live elsewhere, or interrupted: the next `run` marks dead ones interrupted; `run --resume` continues them)")) }
                let missing = try store.artifacts().filter { !fm.fileExists(atPath: $0.path) }
                if !missing.isEmpty { out.append(Finding(ok: true, what: "\(missing.count) recorded artifact file(s) no longer exist (e.g. \(missing[0].path))")) }
            } catch {
                out.append(Finding(ok: false, what: "database \(databasePath): \(error)"))
            }
        } else {
            out.append(Finding(ok: true, what: "no database at \(databasePath) yet (created by the first `tokbench run`)"))
        }
        let fmnist = DatasetSpec(kind: .fashionMNIST)
        do { try fmnist.checkAvailable(); out.append(Finding(ok: true, what: "Fashion-MNIST found in \(fmnist.path)")) } catch {
            out.append(Finding(ok: false, what: "Fashion-MNIST: \(error)"))
        }
        let photos = PhotoSet.sourceFiles().count
        out.append(Finding(ok: true, what: photos > 0 ? "\(photos) Debian photographs found for the photos dataset"
                                                    : "no Debian photographs, needed only for the photos dataset (apt-get install \(PhotoSet.aptPackages.joined(separator: " ")))"))
        for lib in ["libopenblas.so.0", "libpng16.so.16", "libturbojpeg.so.0", "libsqlite3.so.0"] {
            let handle = dlopen(lib, RTLD_NOW)
            out.append(Finding(ok: handle != nil, what: handle != nil ? "\(lib) loads" : "\(lib) does not load: \(String(cString: dlerror()))"))
            if let h = handle { dlclose(h) }
        }
        let compute = ComputeEnvironment.current()
        let cpuLevel = BLASKernel.cpuLevel(flags: CPUInfo.current.flags)
        let fallback = BLASKernel.isaLevel(core: compute.blasCore).map { $0 < .avx && cpuLevel >= .avx2 } ?? false
        out.append(Finding(ok: true, warning: fallback,
                           what: "BLAS: \(compute.blas); kernels \(compute.blasCore) (\(compute.blasCoreSource)) on \(compute.cpu) (\(cpuLevel))"
                               + (fallback ? ": a generic fallback on a CPU with \(cpuLevel); tokbench commands select a better core themselves unless OPENBLAS_CORETYPE is set" : "")))
        let env = ProcessInfo.processInfo.environment
        out.append(Finding(ok: true, what: "OPENBLAS_CORETYPE=\(env["OPENBLAS_CORETYPE"] ?? "(unset)"), OPENBLAS_NUM_THREADS=\(env["OPENBLAS_NUM_THREADS"] ?? "(unset)"), \(ProcessInfo.processInfo.activeProcessorCount) cores"))
        return out
    }
}
