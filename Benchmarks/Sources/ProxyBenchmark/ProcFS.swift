#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// What Linux's `/proc` says about the processes under test: memory, CPU time, open files.
///
/// Every reader returns `nil` when the process is gone or the file cannot be parsed, so that a
/// process that died mid-run shows up as a missing number rather than as a wrong one.
enum ProcFS {
    /// Clock ticks per second of `utime`/`stime` in `/proc/<pid>/stat`.
    static let clockTicksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// The whole text of a `/proc` file (their size is reported as 0, so read until EOF).
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 { return nil }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM` …) in KiB.
    static func statusKiB(pid: Int32, field: String) -> Int? {
        guard let text = read("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let number = line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first
            return number.flatMap { Int($0) }
        }
        return nil
    }

    /// Resident set size now, KiB.
    static func rssKiB(pid: Int32) -> Int? { statusKiB(pid: pid, field: "VmRSS") }

    /// Peak resident set size since the process started, KiB.
    static func peakRSSKiB(pid: Int32) -> Int? { statusKiB(pid: pid, field: "VmHWM") }

    /// The fields of `/proc/<pid>/stat` after the command name (field 3 onwards, 0-based here).
    private static func statFields(pid: Int32) -> [Substring]? {
        guard let text = read("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    /// User plus system CPU time, in clock ticks (fields 14 and 15 of `stat`).
    static func cpuTicks(pid: Int32) -> Int? {
        guard let fields = statFields(pid: pid), fields.count > 12 else { return nil }
        guard let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    /// The parent process id (field 4 of `stat`).
    static func parent(of pid: Int32) -> Int32? {
        guard let fields = statFields(pid: pid), fields.count > 1 else { return nil }
        return Int32(fields[1])
    }

    /// Direct children of `pid` (nginx's workers under its master).
    static func children(of pid: Int32) -> [Int32] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var result: [Int32] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let child = Int32(name), child != pid else { continue }
            if parent(of: child) == pid { result.append(child) }
        }
        return result.sorted()
    }

    /// Number of open file descriptors of `pid`.
    static func openFileCount(pid: Int32) -> Int? {
        guard let dir = opendir("/proc/\(pid)/fd") else { return nil }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let first = withUnsafeBytes(of: entry.pointee.d_name) { $0[0] }
            if first != UInt8(ascii: ".") { count += 1 }
        }
        return count
    }

    /// The soft limit on open files of `pid` ("Max open files" in `/proc/<pid>/limits`).
    static func openFileLimit(pid: Int32) -> Int? {
        guard let text = read("/proc/\(pid)/limits") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("Max open files") {
            let numbers = line.dropFirst("Max open files".count).split(whereSeparator: { $0 == " " || $0 == "\t" })
            return numbers.first.flatMap { Int($0) }
        }
        return nil
    }
}

/// The benchmark's own limit on open files, raised so that 10,000 chargers and the CSMS's
/// 10,000 accepted connections fit in this one process.
enum FileLimit {
    /// The soft and hard limit now.
    static func current() -> (soft: Int, hard: Int) {
        var limit = rlimit()
        getrlimit(nofileResource, &limit)
        return (Int(limit.rlim_cur), Int(limit.rlim_max))
    }

    /// Raises the soft limit to at least `wanted`, raising the hard limit too when allowed (root).
    /// - Returns: the soft limit in force afterwards.
    @discardableResult
    static func raise(to wanted: Int) -> Int {
        var limit = rlimit()
        getrlimit(nofileResource, &limit)
        if Int(limit.rlim_cur) >= wanted { return Int(limit.rlim_cur) }
        var raised = limit
        raised.rlim_cur = rlim_t(wanted)
        raised.rlim_max = max(limit.rlim_max, rlim_t(wanted))
        if setrlimit(nofileResource, &raised) != 0 {
            // Not allowed to raise the hard limit: take what the hard limit gives.
            raised = limit
            raised.rlim_cur = limit.rlim_max
            _ = setrlimit(nofileResource, &raised)
        }
        return current().soft
    }

    #if canImport(Glibc)
        private static let nofileResource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let nofileResource = RLIMIT_NOFILE
    #endif
}
