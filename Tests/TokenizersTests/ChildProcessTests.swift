import XCTest
import Foundation
@testable import Tokenizers

/// ChildProcess: bounded waits and nothing left behind, with real programs that misbehave
/// (a grandchild that ignores SIGTERM, a child that escapes with setsid and holds the pipes, a
/// progress bar of megabytes without a newline). /proc says whether a process is still there.
final class ChildProcessTests: XCTestCase {
    /// Whether /proc still lists the process, zombies included: a stopped leftover must also be reaped.
    func alive(_ pid: pid_t) -> Bool { FileManager.default.fileExists(atPath: "/proc/\(pid)") }

    func python(_ code: String, timeout: Double, grace: Double = 0.5) throws -> (ChildProcess.Outcome, [String], Double) {
        var lines: [String] = []
        let t0 = Date()
        let o = try ChildProcess.run(["python3", "-c", code], in: NSTemporaryDirectory(), timeout: timeout, grace: grace) { l, _ in lines.append(l) }
        return (o, lines, Date().timeIntervalSince(t0))
    }

    /// The program and its grandchild both ignore SIGTERM; the grandchild is in a session of its own.
    /// The timeout holds, SIGKILL follows the grace period, and neither process survives.
    func testTimeoutKillsAGrandchildThatIgnoresSIGTERM() throws {
        let code = """
        import os, signal, sys, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if os.fork() == 0:
            if os.fork() == 0:
                os.setsid()
                print("grandchild", os.getpid(), flush=True)
                time.sleep(60); sys.exit(0)
            time.sleep(60); sys.exit(0)
        print("program", os.getpid(), flush=True)
        time.sleep(60)
        """
        let (o, lines, seconds) = try python(code, timeout: 1.5)
        XCTAssertEqual(o.end, .timedOut)
        XCTAssertLessThan(seconds, 8, "the timeout did not hold")
        let pids = lines.compactMap { l -> pid_t? in l.split(separator: " ").last.flatMap { pid_t($0) } }
        XCTAssertEqual(pids.count, 2, "\(lines)")
        for p in pids { XCTAssertFalse(alive(p), "process \(p) survived the timeout") }
        XCTAssertGreaterThanOrEqual(o.leftovers, 2)
    }

    /// A program that finishes at once but leaves a child (setsid, stdio still on the pipes) sleeping:
    /// it counts as finished by its own exit, quickly, and the child is stopped.
    func testProgramExitIsCompletionEvenWithAChildHoldingThePipes() throws {
        let code = """
        import os, sys, time
        if os.fork() == 0:
            os.setsid()
            print("child", os.getpid(), flush=True)
            time.sleep(30); sys.exit(0)
        time.sleep(0.2)
        print("done", file=sys.stderr, flush=True)
        """
        let (o, lines, seconds) = try python(code, timeout: 20)
        XCTAssertEqual(o.end, .exited(0))
        XCTAssertLessThan(seconds, 6)
        XCTAssertEqual(o.stderrTail, ["done"])
        let child = lines.first { $0.hasPrefix("child") }.flatMap { pid_t($0.split(separator: " ")[1]) }
        XCTAssertNotNil(child)
        if let c = child { XCTAssertFalse(alive(c), "the leftover child survived") }
        XCTAssertEqual(o.leftovers, 1)
    }

    /// 4 MB of progress bar on stderr with \r and no newline: read in linear time, lines cut at
    /// maxLineBytes, a bounded tail.
    func testLongOutputWithoutNewlinesIsBounded() throws {
        let code = """
        import sys
        sys.stderr.write("x" * (4 << 20))
        for i in range(20000): sys.stderr.write("\\rstep %d" % i)
        sys.stderr.write("\\nlast line\\n")
        """
        let (o, lines, seconds) = try python(code, timeout: 60)
        XCTAssertEqual(o.end, .exited(0))
        XCTAssertLessThan(seconds, 20)
        XCTAssertEqual(o.stderrTail.count, ChildProcess.tailLines)
        XCTAssertEqual(o.stderrTail.last, "last line")
        XCTAssertTrue(lines[0].hasPrefix(String(repeating: "x", count: ChildProcess.maxLineBytes)))
        XCTAssertTrue(lines[0].hasSuffix("[… line cut at \(ChildProcess.maxLineBytes) bytes]"))
        XCTAssertTrue(lines.contains("step 19999"))
        XCTAssertLessThanOrEqual(lines.map(\.utf8.count).max() ?? 0, ChildProcess.maxLineBytes + 40)
    }

    /// Exit status and signals are the program's own; a missing program is exit 127 from env.
    func testExitStatusAndSignal() throws {
        XCTAssertEqual(try python("import sys; sys.exit(3)", timeout: 10).0.end, .exited(3))
        XCTAssertEqual(try python("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", timeout: 10).0.end, .signaled(SIGKILL))
        let o = try ChildProcess.run(["no-such-program-tokbench"], in: "/", timeout: 10) { _, _ in }
        XCTAssertEqual(o.end, .exited(127))
    }

    /// tokbench's own descriptors (an open file here) do not reach the program.
    func testDescriptorsDoNotLeak() throws {
        let path = NSTemporaryDirectory() + "tokbench-fd-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: path, contents: Data())
        let fd = open(path, O_RDONLY)   // no O_CLOEXEC
        defer { close(fd); unlink(path) }
        let (o, lines, _) = try python("import os; print(sorted(int(f) for f in os.listdir('/proc/self/fd')))", timeout: 10)
        XCTAssertEqual(o.end, .exited(0))
        XCTAssertFalse(lines.joined().contains(" \(fd),") || lines.joined().contains(" \(fd)]"), "fd \(fd) leaked: \(lines)")
    }
}
