import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A process the benchmark started (LoadGuard or nginx), with its output in a log file.
final class ChildProcess {
    let name: String
    let pid: Int32
    let logPath: String
    private let process: Process

    private init(name: String, process: Process, logPath: String) {
        self.name = name
        self.process = process
        self.pid = process.processIdentifier
        self.logPath = logPath
    }

    /// Starts `executable` with `arguments`, stdout and stderr into `logPath`.
    static func launch(name: String, executable: String, arguments: [String], logPath: String) throws -> ChildProcess {
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw BenchmarkError.setup("cannot write \(name)'s log file \(logPath)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw BenchmarkError.setup("cannot start \(name) (\(executable)): \(error)")
        }
        return ChildProcess(name: name, process: process, logPath: logPath)
    }

    var isRunning: Bool { process.isRunning }

    /// How the child ended ("exit status 1", "signal 9"), or "running".
    var exitDescription: String {
        if process.isRunning { return "running" }
        switch process.terminationReason {
        case .exit: return "exit status \(process.terminationStatus)"
        case .uncaughtSignal: return "signal \(process.terminationStatus)"
        @unknown default: return "status \(process.terminationStatus)"
        }
    }

    /// - Throws: when the child is no longer running, with how it ended and its log.
    func ensureRunning(during phase: String) throws {
        guard !isRunning else { return }
        throw BenchmarkError.setup(
            "\(name) (pid \(pid)) ended during \(phase) (\(exitDescription)); its log:\n\(logTail())"
        )
    }

    /// The last lines of the child's log, for error messages.
    func logTail(lines: Int = 15) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Waits until the child accepts TCP connections on `port`.
    /// - Throws: when it exits first or does not listen within `timeout` seconds; the message has its log.
    func waitUntilListening(port: Int, timeout: Double = 120) async throws {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(timeout) {
            guard isRunning else {
                throw BenchmarkError.setup(
                    "\(name) exited (\(exitDescription)) before listening on 127.0.0.1:\(port); its log:\n\(logTail())"
                )
            }
            if acceptsConnections(port: port) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchmarkError.setup(
            "\(name) did not listen on 127.0.0.1:\(port) within \(Int(timeout)) s; its log:\n\(logTail())"
        )
    }

    /// Sends `signal` (SIGTERM by default) and waits up to `timeout` seconds, then SIGKILL.
    func stop(signal: Int32 = SIGTERM, timeout: Double = 10) async {
        guard isRunning else { return }
        kill(pid, signal)
        let start = ContinuousClock.now
        while isRunning, ContinuousClock.now - start < .seconds(timeout) {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Finding, configuring and starting the LoadGuard under test.
enum LoadGuardUnderTest {
    /// The benchmarks package's directory (this file is `Benchmarks/Sources/ProxyBenchmark/…`).
    static let benchmarksDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The binary to measure: `LOADGUARD_BIN`; else `../.build/release/loadguard`; else a release
    /// build made here (`swift build -c release --product loadguard` in `Benchmarks/`, which reuses
    /// the modules the benchmarks were built with); only when that build fails
    /// `../.build/debug/loadguard`, with a warning, since a debug build's numbers say little about
    /// the product.
    /// - Returns: the path and, when the choice deserves a warning, what to say.
    static func locate(log: (String) -> Void) throws -> (path: String, warning: String?) {
        let files = FileManager.default
        if let path = ProcessInfo.processInfo.environment["LOADGUARD_BIN"], !path.isEmpty {
            guard files.isExecutableFile(atPath: path) else {
                throw BenchmarkError.setup("LOADGUARD_BIN is \(path), which is not an executable file")
            }
            return (path, nil)
        }
        let root = URL(fileURLWithPath: benchmarksDirectory).deletingLastPathComponent().path
        let release = root + "/.build/release/loadguard"
        if files.isExecutableFile(atPath: release) {
            return (release, staleWarning(binary: release, sources: root + "/Sources"))
        }
        log(
            "building LoadGuard in release mode (swift build -c release --product loadguard in \(benchmarksDirectory)) …"
        )
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        build.arguments = ["swift", "build", "-c", "release", "--product", "loadguard"]
        build.currentDirectoryURL = URL(fileURLWithPath: benchmarksDirectory)
        let buildLog = FileManager.default.temporaryDirectory.appendingPathComponent("loadguard-bench-build.log").path
        _ = files.createFile(atPath: buildLog, contents: nil)
        let handle = FileHandle(forWritingAtPath: buildLog)
        build.standardOutput = handle
        build.standardError = handle
        try? build.run()
        build.waitUntilExit()
        let built = benchmarksDirectory + "/.build/release/loadguard"
        if build.terminationStatus == 0, files.isExecutableFile(atPath: built) {
            return (built, nil)
        }
        let debug = root + "/.build/debug/loadguard"
        if files.isExecutableFile(atPath: debug) {
            return (
                debug,
                "the release build failed (log: \(buildLog)); measuring the DEBUG build \(debug), whose numbers "
                    + "overstate LoadGuard's latency and CPU"
            )
        }
        throw BenchmarkError.setup(
            "no LoadGuard binary: LOADGUARD_BIN is unset, \(release) and \(debug) do not exist, and "
                + "`swift build -c release --product loadguard` in \(benchmarksDirectory) failed (log: \(buildLog))"
        )
    }

    /// A warning when `binary` is older than the newest Swift file under `sources`.
    private static func staleWarning(binary: String, sources: String) -> String? {
        let files = FileManager.default
        guard let built = (try? files.attributesOfItem(atPath: binary))?[.modificationDate] as? Date else { return nil }
        guard let walker = files.enumerator(atPath: sources) else { return nil }
        var newest: (path: String, date: Date)?
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".swift") else { continue }
            let path = sources + "/" + relative
            if let date = (try? files.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                date > (newest?.date ?? .distantPast)
            {
                newest = (path, date)
            }
        }
        guard let newest, newest.date > built else { return nil }
        return
            "\(binary) is older than \(newest.path): rebuild it (or set LOADGUARD_BIN) to measure the current sources"
    }

    /// Writes the configuration: chargers on `port`, the CSMS upstream, no API, warnings only.
    static func writeConfiguration(directory: String, port: Int, csmsPort: Int) throws -> String {
        let path = directory + "/loadguard.yaml"
        let text = """
            # Written by ProxyBenchmark: a transparent proxy for any charger id, no pings, no API.
            ocpp:
              listen: "127.0.0.1:\(port)"
              path: /ocpp
              upstream: ws://127.0.0.1:\(csmsPort)/ocpp
              accept_unknown_chargers: true
              ping_interval: 0
            api:
              listen: null
            log:
              level: warning

            """
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw BenchmarkError.setup("cannot write \(path): \(error)")
        }
        return path
    }

    /// Starts `loadguard run --config …`. With `openFileLimit`, LoadGuard runs under that soft
    /// limit (`ulimit -n` in a shell that then execs it); otherwise it inherits the benchmark's.
    static func launch(binary: String, configuration: String, directory: String, openFileLimit: Int?) throws
        -> ChildProcess
    {
        if let openFileLimit {
            return try ChildProcess.launch(
                name: "LoadGuard",
                executable: "/bin/sh",
                arguments: [
                    "-c", "ulimit -n \(openFileLimit) && exec \"$0\" run --config \"$1\"", binary, configuration,
                ],
                logPath: directory + "/loadguard.log"
            )
        }
        return try ChildProcess.launch(
            name: "LoadGuard",
            executable: binary,
            arguments: ["run", "--config", configuration],
            logPath: directory + "/loadguard.log"
        )
    }
}

/// nginx as a plain WebSocket reverse proxy, from `Benchmarks/nginx/nginx.conf.template`.
enum NginxBaseline {
    static func locate() throws -> String {
        for path in ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw BenchmarkError.setup("nginx is not installed (make bench installs Debian's nginx-light)")
    }

    /// Fills the template's `{{…}}` placeholders and writes `nginx.conf` into `directory`.
    static func writeConfiguration(directory: String, port: Int, csmsPort: Int, workers: Int) throws -> String {
        let template = LoadGuardUnderTest.benchmarksDirectory + "/nginx/nginx.conf.template"
        guard var text = try? String(contentsOfFile: template, encoding: .utf8) else {
            throw BenchmarkError.setup("cannot read the nginx template \(template)")
        }
        let values = [
            "PREFIX": directory,
            "WORKERS": "\(workers)",
            "LISTEN": "127.0.0.1:\(port)",
            "UPSTREAM": "127.0.0.1:\(csmsPort)",
        ]
        for (key, value) in values {
            text = text.replacingOccurrences(of: "{{\(key)}}", with: value)
        }
        if let unknown = text.range(of: "{{") {
            throw BenchmarkError.setup(
                "\(template) has a placeholder the benchmark does not fill, near \(text[unknown.lowerBound...].prefix(30))"
            )
        }
        let path = directory + "/nginx.conf"
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw BenchmarkError.setup("cannot write \(path): \(error)")
        }
        return path
    }

    static func launch(binary: String, configuration: String, directory: String) throws -> ChildProcess {
        try ChildProcess.launch(
            name: "nginx",
            executable: binary,
            arguments: ["-c", configuration, "-p", directory, "-e", directory + "/error.log"],
            logPath: directory + "/nginx.out"
        )
    }
}
