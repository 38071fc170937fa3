// A small program that HardwareTests runs inside a private mount (and network) namespace, where a
// fake ADE9000 sysfs tree and a FIFO stand in for the kernel driver (see Tests/HardwareTests/Scripts).
// It opens the `iio` sample source the way LoadGuard does and prints what comes out, one line per
// fact, for the test to compare with the samples it fed:
//
//   opened <channelCount> <sampleRate>
//   block <firstSample> <count>
//   values <channel> <value> <value> ...
//   end <case> <seconds waited> <description>      (the error that ended the capture)
//   open-failed <case> <description>                (the error thrown by init)
//
// Usage: HardwareProbe '<iio configuration as JSON>' <blocks to print> [cancel-after-seconds]

import Foundation
import Hardware
import Logging

func errorCase(_ error: SampleSourceError) -> String {
    switch error {
    case .stale: "stale"
    case .unavailable: "unavailable"
    case .missingChannel: "missingChannel"
    case .malformed: "malformed"
    case .cancelled: "cancelled"
    }
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, let blockCount = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: HardwareProbe CONFIG-JSON BLOCKS [CANCEL-AFTER-SECONDS]\n".utf8))
    exit(2)
}
let cancelAfter = arguments.count > 3 ? Double(arguments[3]) : nil

var logger = Logger(label: "hardware-probe") { StreamLogHandler.standardError(label: $0) }
logger.logLevel = .debug

let configuration: IIOSourceConfiguration
do {
    configuration = try JSONDecoder().decode(IIOSourceConfiguration.self, from: Data(arguments[1].utf8))
} catch {
    print("config-error \(error)")
    exit(0)
}

let source: IIOSampleSource
do {
    source = try IIOSampleSource(configuration: configuration, logger: logger)
} catch {
    print("open-failed \(errorCase(error)) \(error)")
    exit(0)
}
print("opened \(source.channelCount) \(source.sampleRate)")

do {
    for _ in 0..<blockCount {
        guard let block = try await source.nextBlock() else {
            print("end nil 0 the source ended")
            exit(0)
        }
        print("block \(block.firstSample) \(block.count)")
        for (index, values) in block.channels.enumerated() {
            let channel = SampleChannel(rawValue: index)!
            print("values \(channel) " + values.map { "\($0)" }.joined(separator: " "))
        }
    }
} catch {
    print("end \(errorCase(error)) 0 \(error)")
    exit(0)
}

if let cancelAfter {
    Task {
        try await Task.sleep(for: .seconds(cancelAfter))
        source.cancel()
    }
}
let clock = ContinuousClock()
let start = clock.now
do {
    while try await source.nextBlock() != nil {
        print("extra-block")
    }
    print("end nil 0 the source ended")
} catch {
    let waited = clock.now - start
    let seconds = Double(waited.components.seconds) + Double(waited.components.attoseconds) * 1e-18
    print("end \(errorCase(error)) \(seconds) \(error)")
}
