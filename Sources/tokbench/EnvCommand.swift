import ArgumentParser
import Foundation
import Kernels

struct EnvCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env", abstract: "Print the compute environment every run records (CPU, threads, BLAS and its kernels, Swift, OS).")

    func run() throws {
        for p in ComputeEnvironment.current().pairs { print("\(p.key)=\(p.value)") }
        // Empty when OpenBLAS detected its core itself; scripts/test.sh passes a value on to `swift test`.
        print("env.openblas_coretype=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "")")
    }
}
