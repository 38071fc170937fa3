/// Command-line options. The defaults are the run of `make bench` (issue 2, "Benchmarks"):
/// 1,000 chargers, 20 measured seconds per path, 10,000 idle chargers.
struct Options {
    /// Chargers with traffic on each path.
    var chargers = 1000
    /// Measured seconds per path, split into `segments` interleaved slices.
    var seconds = 20
    /// Slices per path, run in the order direct, LoadGuard, nginx, nginx, LoadGuard, direct …
    /// so that a drift in the machine's load falls on every path alike.
    var segments = 4
    /// Seconds of traffic before each slice's measuring window.
    var warmup = 3
    /// Idle chargers connected at once through LoadGuard (0: skip that part).
    var idleChargers = 10_000
    /// Seconds the idle chargers stay connected before they are counted and heartbeat once.
    var idleHold = 10
    /// nginx's `worker_processes`.
    var nginxWorkers = 2
    /// A soft `ulimit -n` for LoadGuard; `nil`: it inherits the benchmark's (raised) limit.
    var loadGuardOpenFiles: Int?
    /// WebSocket handshakes in flight at once while chargers connect.
    var connectConcurrency = 128

    static let usage = """
        ProxyBenchmark: LoadGuard's OCPP proxy against a direct connection and against nginx, on loopback.

        Usage: ProxyBenchmark [options]
          --chargers N            chargers with traffic on each path (default 1000)
          --seconds N             measured seconds per path (default 20)
          --segments N            interleaved slices per path (default 4)
          --warmup N              seconds of traffic before each slice is measured (default 3)
          --idle-chargers N       idle chargers connected at once through LoadGuard; 0 skips (default 10000)
          --idle-hold N           seconds the idle chargers stay connected before the check (default 10)
          --nginx-workers N       nginx worker_processes (default 2)
          --loadguard-nofile N    run LoadGuard under `ulimit -n N` (default: the benchmark's raised limit)
          --connect-concurrency N handshakes in flight while connecting (default 128)
          --quick                 a smoke run: 100 chargers, 4 s, 1 slice, 1,000 idle chargers
          --help                  this text

        Environment: LOADGUARD_BIN names the loadguard binary to measure.
        Exit status: 0 when every target is met, 1 when one is missed, 2 when the run could not be made.
        """

    /// Parses `arguments` (without the program name).
    /// - Throws: ``BenchmarkError/usage(_:)`` naming the flag and what it expected.
    static func parse(_ arguments: [String]) throws -> Options? {
        var options = Options()
        var rest = arguments[...]
        func number(_ flag: String, minimum: Int) throws -> Int {
            guard let text = rest.popFirst() else { throw BenchmarkError.usage("\(flag) needs a number") }
            guard let value = Int(text), value >= minimum else {
                throw BenchmarkError.usage("\(flag) expects a whole number ≥ \(minimum), found '\(text)'")
            }
            return value
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--chargers": options.chargers = try number(flag, minimum: 1)
            case "--seconds": options.seconds = try number(flag, minimum: 1)
            case "--segments": options.segments = try number(flag, minimum: 1)
            case "--warmup": options.warmup = try number(flag, minimum: 0)
            case "--idle-chargers": options.idleChargers = try number(flag, minimum: 0)
            case "--idle-hold": options.idleHold = try number(flag, minimum: 0)
            case "--nginx-workers": options.nginxWorkers = try number(flag, minimum: 1)
            case "--loadguard-nofile": options.loadGuardOpenFiles = try number(flag, minimum: 16)
            case "--connect-concurrency": options.connectConcurrency = try number(flag, minimum: 1)
            case "--quick":
                options.chargers = 100
                options.seconds = 4
                options.segments = 1
                options.warmup = 1
                options.idleChargers = 1000
                options.idleHold = 2
            case "--help", "-h": return nil
            default: throw BenchmarkError.usage("unknown option '\(flag)'")
            }
        }
        return options
    }
}
