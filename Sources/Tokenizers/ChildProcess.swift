// Runs an outside program with every wait bounded and nothing left behind (ARCHITECTURE.md,
// "External tokenizer protocol"): the program starts in a process group of its own (posix_spawn, no
// shell), its output is read from pipes with poll() on this thread, and completion is judged by the
// program's own exit, not by its descendants' hold on the pipes. When the program exits (or its time
// is up) every process it left, in its group or below it in the process tree (tokbench is a child
// subreaper, so orphans re-parent to it even after setsid), gets SIGTERM, a grace period, then SIGKILL.
// Output lines end at \n or \r, are cut at `maxLineBytes`, and only a bounded tail is kept.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum ChildProcess {
    public struct Outcome: Sendable {
        /// The program's own end: its exit status, the signal that killed it, or the timeout.
        public enum End: Sendable, Equatable { case exited(Int32), signaled(Int32), timedOut, stopped }
        public var end: End
        /// The last stderr lines (at most `tailLines`, each at most `maxLineBytes`).
        public var stderrTail: [String]
        /// Leftover processes of the program (its group or its descendants) that had to be stopped.
        public var leftovers: Int
    }

    public static let maxLineBytes = 1024
    public static let tailLines = 5

    /// Runs argv[0] (found on PATH, as execvp does) with argv in `directory`, stdin from /dev/null,
    /// stdout and stderr line by line to `log`. Waits at most `timeout` seconds for the program, then
    /// at most `drain` seconds for output its leftovers still hold, and `grace` seconds between
    /// SIGTERM and SIGKILL. Throws only when the program cannot be started.
    /// `tick` is called about every 0.1 s while the program runs (the chunked protocol measures outputs as they
    /// arrive there); returning false stops the program like a timeout (end `.stopped`).
    public static func run(_ argv: [String], in directory: String, timeout: Double, grace: Double = 5, drain: Double = 1,
                           tick: () -> Bool = { true },
                           log: @escaping (String, _ isStderr: Bool) -> Void) throws -> Outcome {
        precondition(!argv.isEmpty)
        becomeSubreaper()
        var outFDs: [Int32] = [-1, -1], errFDs: [Int32] = [-1, -1]
        guard pipe(&outFDs) == 0 else { throw SpawnError("cannot create pipes: \(String(cString: strerror(errno)))") }
        guard pipe(&errFDs) == 0 else {
            let e = errno; outFDs.forEach { _ = close($0) }
            throw SpawnError("cannot create pipes: \(String(cString: strerror(e)))")
        }
        for fd in outFDs + errFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outFDs[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errFDs[1], 2)
        // Every other descriptor of tokbench (the database among them) stays out of the program.
        for fd in openDescriptors() where fd > 2 && fd != outFDs[1] && fd != errFDs[1] && fcntl(fd, F_GETFD) & FD_CLOEXEC == 0 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setpgroup(&attr, 0)                              // its own process group, led by itself
        var noSignals = sigset_t(), defaults = sigset_t()
        sigemptyset(&noSignals)
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigmask(&attr, &noSignals)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let started = ticksNow()
        var pid: pid_t = 0
        let env = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        // /usr/bin/env enters the directory and finds the program on PATH (execvp): no shell, and no
        // chdir of tokbench's own process.
        let full = ["/usr/bin/env", "-C", directory, "--"] + argv
        let rc = withCStrings(full) { cargv in withCStrings(env) { cenv in posix_spawn(&pid, "/usr/bin/env", &actions, &attr, cargv, cenv) } }
        close(outFDs[1]); close(errFDs[1])
        // The read ends are closed once each: by `pump` at end of file, or here for what is still open
        // (a second close could hit a descriptor the number was reused for meanwhile).
        var open = [outFDs[0]: false, errFDs[0]: true]
        defer { for fd in open.keys { close(fd) } }
        guard rc == 0 else { throw SpawnError("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }

        let lines = LineSplitter(log: log)
        for fd in open.keys { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        let deadline = Date().addingTimeInterval(timeout)
        var end: Outcome.End?
        // 1. Until the program exits or its time is up: read output, poll its state.
        while end == nil {
            if let e = reap(pid) { end = e; break }
            if Date() >= deadline { end = .timedOut; break }
            if !tick() { end = .stopped; break }
            pump(&open, lines, wait: min(0.1, max(0.001, deadline.timeIntervalSinceNow)))
        }
        // 2. What the program wrote before it ended, and a short while for leftovers' last output.
        let killed = end == .timedOut || end == .stopped
        if !killed {
            let until = Date().addingTimeInterval(drain)
            while !open.isEmpty && Date() < until { pump(&open, lines, wait: 0.05) }
        }
        // 3. Stop everything that is left: the program itself (after a timeout) and its leftovers.
        let leftovers = stopAll(leader: pid, startedAfter: started, grace: grace, stillRunning: killed)
        if killed { reapBlocking(pid, seconds: 1) }
        while !open.isEmpty { if !pump(&open, lines, wait: 0) { break } }
        lines.flush()
        return Outcome(end: end!, stderrTail: lines.tail, leftovers: leftovers)
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public let description: String
        init(_ d: String) { description = d }
    }

    // MARK: - output

    /// Reads what the open pipes hold (waiting up to `wait` seconds for the first byte); closes the ones at
    /// end of file. Returns whether anything was read.
    @discardableResult
    static func pump(_ open: inout [Int32: Bool], _ lines: LineSplitter, wait: Double) -> Bool {
        guard !open.isEmpty else { if wait > 0 { usleep(UInt32(wait * 1e6)) }; return false }
        var fds = open.keys.sorted().map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        guard poll(&fds, nfds_t(fds.count), Int32(wait * 1000)) > 0 else { return false }
        var any = false
        var buf = [UInt8](repeating: 0, count: 65536)
        for p in fds where p.revents != 0 {
            let isErr = open[p.fd]!
            var reads = 0
            while reads < 64 {                                               // bounded per call: 4 MB
                let n = buf.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, 65536) }
                if n > 0 { lines.consume(buf[0..<n], isStderr: isErr); any = true; reads += 1; continue }
                if n == 0 || (errno != EAGAIN && errno != EINTR) { close(p.fd); open[p.fd] = nil }
                break
            }
        }
        return any
    }

    /// Splits bytes into lines at \n and \r, cutting each at `maxLineBytes` (the rest of a long line is
    /// dropped, not buffered); keeps the last `tailLines` stderr lines.
    final class LineSplitter {
        let log: (String, Bool) -> Void
        var partial: [Bool: [UInt8]] = [:]
        var cut: [Bool: Bool] = [:]
        private(set) var tail: [String] = []
        init(log: @escaping (String, Bool) -> Void) { self.log = log }

        func consume(_ bytes: ArraySlice<UInt8>, isStderr: Bool) {
            var cur = partial[isStderr] ?? []
            var dropping = cut[isStderr] ?? false
            for b in bytes {
                if b == 0x0A || b == 0x0D {
                    emit(cur, dropping, isStderr); cur.removeAll(keepingCapacity: true); dropping = false
                } else if cur.count < ChildProcess.maxLineBytes {
                    cur.append(b)
                } else {
                    dropping = true
                }
            }
            partial[isStderr] = cur; cut[isStderr] = dropping
        }

        func flush() {
            for isErr in [false, true] { if let p = partial[isErr], !p.isEmpty { emit(p, cut[isErr] ?? false, isErr) }; partial[isErr] = [] }
        }

        private func emit(_ line: [UInt8], _ wasCut: Bool, _ isStderr: Bool) {
            guard !line.isEmpty else { return }
            let s = String(decoding: line, as: UTF8.self) + (wasCut ? " [… line cut at \(ChildProcess.maxLineBytes) bytes]" : "")
            log(s, isStderr)
            if isStderr { tail.append(s); if tail.count > ChildProcess.tailLines { tail.removeFirst() } }
        }
    }

    // MARK: - processes

    /// The program's end if it has ended (reaped), nil while it runs.
    static func reap(_ pid: pid_t) -> Outcome.End? {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        guard r == pid else { return nil }
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }

    /// Reaps the program after it was killed, waiting at most `seconds`; returns at once when it was
    /// already reaped (with the rest of its family).
    static func reapBlocking(_ pid: pid_t, seconds: Double) {
        let until = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while Date() < until {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r == -1 && errno == ECHILD) { return }
            usleep(10_000)
        }
    }

    /// SIGTERM to every process of the program's group and every descendant started after it (orphans
    /// re-parented to tokbench included), `grace` seconds, then SIGKILL to whatever is still there;
    /// reaps the ones that are tokbench's children. Returns how many leftovers there were (the program
    /// itself not counted).
    static func stopAll(leader: pid_t, startedAfter: UInt64, grace: Double, stillRunning: Bool) -> Int {
        func targets() -> [pid_t] { family(leader: leader, startedAfter: startedAfter).filter { $0 != leader || stillRunning } }
        let first = targets()
        guard !first.isEmpty else { return 0 }
        /// Reaps what has ended until nothing of the family is left or `seconds` pass; returns what is left.
        func waitForEnd(_ seconds: Double) -> [pid_t] {
            let until = Date().addingTimeInterval(seconds)
            while true {
                reapChildren(first)   // zombies are not in `targets`, but those that are tokbench's children are ours to reap
                let left = targets()
                if left.isEmpty || Date() >= until { reapChildren(first); return left }
                usleep(10_000)
            }
        }
        for p in first { kill(p, SIGTERM) }
        for p in waitForEnd(grace) { kill(p, SIGKILL) }
        _ = waitForEnd(2)
        return first.filter { $0 != leader }.count
    }

    static func reapChildren(_ pids: [pid_t]) {
        var status: Int32 = 0
        for p in pids { _ = waitpid(p, &status, WNOHANG) }
    }

    /// Live (not zombie) processes that belong to the program: its process group, and every process
    /// below it or below tokbench (re-parented orphans) in the process tree that started no earlier than it.
    static func family(leader: pid_t, startedAfter: UInt64) -> [pid_t] {
        let me = getpid()
        var table: [(pid: pid_t, ppid: pid_t, pgrp: pid_t, start: UInt64, zombie: Bool)] = []
        for p in allPIDs() { if let s = procStat(p) { table.append((p, s.ppid, s.pgrp, s.start, s.zombie)) } }
        var children: [pid_t: [pid_t]] = [:]
        for t in table { children[t.ppid, default: []].append(t.pid) }
        var mine: Set<pid_t> = [], stack: [pid_t] = [leader]
        // Orphans of the program are re-parented to tokbench: its other children started after the program count too.
        let byPID = Dictionary(table.map { ($0.pid, $0) }, uniquingKeysWith: { a, _ in a })
        for c in children[me] ?? [] where c != leader && (byPID[c]?.start ?? 0) >= startedAfter { stack.append(c) }
        while let p = stack.popLast() {
            guard mine.insert(p).inserted else { continue }
            stack += children[p] ?? []
        }
        for t in table where t.pgrp == leader { mine.insert(t.pid) }
        return mine.filter { p in byPID[p].map { !$0.zombie } ?? false }.sorted()
    }

    static func allPIDs() -> [pid_t] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return names.compactMap { pid_t($0) }
    }

    /// /proc/PID/stat: the fields after the command name, which may hold spaces and parentheses.
    static func procStat(_ pid: pid_t) -> (ppid: pid_t, pgrp: pid_t, start: UInt64, zombie: Bool)? {
        guard let d = FileManager.default.contents(atPath: "/proc/\(pid)/stat"), let close = d.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let f = String(decoding: d[(close + 1)...], as: UTF8.self).split(separator: " ")
        guard f.count > 19, let ppid = pid_t(f[1]), let pgrp = pid_t(f[2]), let start = UInt64(f[19]) else { return nil }
        return (ppid, pgrp, start, f[0] == "Z" || f[0] == "X")
    }

    /// Clock ticks since boot, as /proc/PID/stat's start time counts them.
    static func ticksNow() -> UInt64 {
        guard let up = FileManager.default.contents(atPath: "/proc/uptime"),
              let s = String(decoding: up, as: UTF8.self).split(separator: " ").first, let secs = Double(s) else { return 0 }
        return UInt64(max(0, secs - 0.05) * Double(sysconf(Int32(_SC_CLK_TCK))))
    }

    /// prctl(PR_SET_CHILD_SUBREAPER, 1): orphans of the program re-parent to tokbench, not to init, so
    /// they stay findable below it (Glibc's Swift module does not declare prctl; it is looked up once).
    static func becomeSubreaper() {
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "prctl") else { return }   // RTLD_DEFAULT
        let PR_SET_CHILD_SUBREAPER: Int32 = 36
        _ = unsafeBitCast(sym, to: Prctl.self)(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    }

    static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    }

    static func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        ptrs.append(nil)
        defer { for p in ptrs { free(p) } }
        return body(ptrs)
    }
}
