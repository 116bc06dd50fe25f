import XCTest
@testable import Kernels

final class BLASKernelTests: XCTestCase {
    func testFallbackCoreIsReplacedOnCapableCPUsOnly() {
        // The machine: Intel Xeon with AVX-512, OpenBLAS 0.3.21 fell back to Prescott.
        XCTAssertEqual(BLASKernel.choice(environmentValue: nil, core: "Prescott", cpu: .avx512), "SkylakeX")
        XCTAssertEqual(BLASKernel.choice(environmentValue: "", core: "Nehalem", cpu: .avx2), "Haswell")
        XCTAssertEqual(BLASKernel.choice(environmentValue: nil, core: "Core2", cpu: .avx2), "Haswell")
        // A CPU without AVX2 + FMA keeps the generic kernels (the better ones would trap).
        XCTAssertNil(BLASKernel.choice(environmentValue: nil, core: "Prescott", cpu: .avx))
        XCTAssertNil(BLASKernel.choice(environmentValue: nil, core: "Prescott", cpu: .sse))
        // A properly detected core is left alone, including AVX2 cores on AVX-512 CPUs.
        XCTAssertNil(BLASKernel.choice(environmentValue: nil, core: "Cooperlake", cpu: .avx512))
        XCTAssertNil(BLASKernel.choice(environmentValue: nil, core: "Zen", cpu: .avx512))
        XCTAssertNil(BLASKernel.choice(environmentValue: nil, core: "Haswell", cpu: .avx512))
        // An unknown name is never second-guessed.
        XCTAssertNil(BLASKernel.choice(environmentValue: nil, core: "SomeFutureCore", cpu: .avx512))
    }

    func testPresetVariableIsNeverTouched() {
        // Some machines set OPENBLAS_CORETYPE because older builds compute wrong results on them.
        XCTAssertNil(BLASKernel.choice(environmentValue: "Prescott", core: "Prescott", cpu: .avx512))
        XCTAssertNil(BLASKernel.choice(environmentValue: "Haswell", core: "Haswell", cpu: .avx512))
    }

    func testCPULevelFromFlags() {
        let avx512: Set<String> = ["avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"]
        XCTAssertEqual(BLASKernel.cpuLevel(flags: avx512), .avx512)
        XCTAssertEqual(BLASKernel.cpuLevel(flags: avx512.subtracting(["avx512vl"])), .avx2)   // F/BW/DQ/VL all needed
        XCTAssertEqual(BLASKernel.cpuLevel(flags: ["avx", "avx2"]), .avx)                      // AVX2 without FMA
        XCTAssertEqual(BLASKernel.cpuLevel(flags: ["sse3"]), .sse)
    }

    func testCPUInfoParsesTheFirstProcessor() {
        let text = """
            processor\t: 0
            vendor_id\t: GenuineIntel
            model name\t: Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz
            flags\t\t: fpu sse3 avx avx2 fma avx512f avx512bw avx512dq avx512vl

            processor\t: 1
            model name\t: something else
            flags\t\t: fpu
            """
        let info = CPUInfo.parse(text)
        XCTAssertEqual(info.model, "Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz")
        XCTAssertEqual(BLASKernel.cpuLevel(flags: info.flags), .avx512)
    }

    func testRunningCoreIsKnownAndEnvironmentComplete() {
        // The core this test process runs must be one the table knows, or the fallback check is blind.
        XCTAssertNotNil(BLASKernel.isaLevel(core: BLASKernel.coreName), "unknown OpenBLAS core \(BLASKernel.coreName)")
        let env = ComputeEnvironment.current()
        XCTAssertTrue(env.blas.hasPrefix("OpenBLAS"), env.blas)
        XCTAssertEqual(env.pairs.count, 8)
        XCTAssertFalse(env.pairs.contains { $0.value.isEmpty })
    }
}
