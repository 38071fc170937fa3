import CGPIOD
import Glibc

/// The two input lines, requested from libgpiod (v1 API) for both-edge events.
///
/// The thin layer over libgpiod: every method is one or two C calls and their error checks. The
/// lines are used by one watch thread at a time; they are released and the chip closed in
/// `deinit`, when neither the thread nor ``GPIODInputs`` holds the object any more.
final class GPIODLines: @unchecked Sendable {
    private let chip: OpaquePointer
    private let lines: [OpaquePointer]
    /// File descriptors that become readable when a line has events (for `poll`).
    let eventDescriptors: [Int32]
    let chipName: String
    let offsets: [UInt32]

    private init(chip: OpaquePointer, lines: [OpaquePointer], chipName: String, offsets: [UInt32]) {
        self.chip = chip
        self.lines = lines
        self.eventDescriptors = lines.map { gpiod_line_event_get_fd($0) }
        self.chipName = chipName
        self.offsets = offsets
    }

    deinit {
        for line in lines { gpiod_line_release(line) }
        gpiod_chip_close(chip)
    }

    /// Opens the chip and requests both lines as inputs with both-edge events.
    static func open(_ configuration: GPIODInputsConfiguration) throws(DigitalInputsError) -> GPIODLines {
        if let problem = configuration.problem { throw .failed("invalid configuration: \(problem)") }
        let name = configuration.chip
        guard let chip = gpiod_chip_open_lookup(name) else {
            let error = errno
            let reason =
                switch error {
                case ENOENT, 0: "no such chip"
                case ENOTTY, ENODEV: "it is not a GPIO chip character device"
                default: describe(errno: error)
                }
            throw .chipNotFound(chip: name, reason: reason)
        }
        var requested: [OpaquePointer] = []
        func releaseAll() {
            for line in requested { gpiod_line_release(line) }
            gpiod_chip_close(chip)
        }
        var flags: Int32 = 0
        if configuration.activeLow { flags |= Int32(GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW) }
        switch configuration.bias {
        case .asIs: break
        case .disable: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE)
        case .pullUp: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP)
        case .pullDown: flags |= Int32(GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN)
        }
        let lineCount = gpiod_chip_num_lines(chip)
        for offset in [configuration.input1, configuration.input2] {
            guard offset < lineCount, let line = gpiod_chip_get_line(chip, offset) else {
                releaseAll()
                throw .lineNotFound(chip: name, line: offset, lineCount: lineCount)
            }
            if gpiod_line_request_both_edges_events_flags(line, configuration.consumer, flags) != 0 {
                let error = errno
                var reason = describe(errno: error)
                if error == EBUSY, let holder = gpiod_line_consumer(line) {
                    reason = "it is in use by '\(String(cString: holder))'"
                }
                releaseAll()
                throw .lineUnavailable(chip: name, line: offset, reason: reason)
            }
            requested.append(line)
        }
        return GPIODLines(
            chip: chip,
            lines: requested,
            chipName: name,
            offsets: [configuration.input1, configuration.input2]
        )
    }

    /// The levels of both lines now (active-low already applied by the kernel).
    func readLevels() throws(DigitalInputsError) -> DigitalInputState {
        var state = DigitalInputState.inactive
        for index in 0..<2 {
            let value = gpiod_line_get_value(lines[index])
            if value < 0 {
                throw .failed("reading line \(offsets[index]) of '\(chipName)': \(Self.describe(errno: errno))")
            }
            state[index] = value == 1
        }
        return state
    }

    /// Reads and discards the pending events of line `index`; only their occurrence matters, the
    /// level is read afresh. Returns whether there was at least one.
    func drainEvents(line index: Int) throws(DigitalInputsError) -> Bool {
        var event = gpiod_line_event()
        var any = false
        while true {
            var descriptor = pollfd(fd: eventDescriptors[index], events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { return any }
            if gpiod_line_event_read(lines[index], &event) != 0 {
                throw .failed(
                    "reading events of line \(offsets[index]) of '\(chipName)': \(Self.describe(errno: errno))"
                )
            }
            any = true
        }
    }

    static func describe(errno error: Int32) -> String {
        "\(String(cString: strerror(error))) (errno \(error))"
    }
}
