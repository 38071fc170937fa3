import Foundation

@testable import OCPP

/// A deterministic random number generator (SplitMix64) so randomized tests repeat exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One record of the real-charger traces in `Fixtures/ocpp-traces/actec`.
struct ActecRecord: Decodable {
    var i: Int
    var kind: String
    var from: String
    var to: String?
    var raw: String?
    var note: String?
    /// The frame re-serialized from the record's `frame` array when `raw` is absent.
    var frameText: String?

    enum CodingKeys: String, CodingKey {
        case i, kind, from, to, raw, note
    }
}

enum Fixtures {
    /// `Fixtures/ocpp-traces/actec` in the repository, found from this file's path.
    static var actecDirectory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Fixtures/ocpp-traces/actec")
    }

    static let actecFiles = [
        "actec-ev-ac22k_1.6_boot_callerror_disconnect.jsonl",
        "actec-ev-ac22k_1.6_evcc_profiles_ignored.jsonl",
        "actec-ev-ac22k_1.6_setchargingprofile_rewrite_nonconformant_conf.jsonl",
        "actec-ev-ac22k_1.6_stoptransaction_false_reason.jsonl",
    ]

    /// Every frame of a trace file as bytes, with who sent it. Uses `raw` when the log had the exact wire text,
    /// otherwise the `frame` array serialized compactly.
    static func frames(of file: String) throws -> [(record: ActecRecord, frame: [UInt8])] {
        let text = try String(contentsOf: actecDirectory.appendingPathComponent(file), encoding: .utf8)
        var result: [(ActecRecord, [UInt8])] = []
        for line in text.split(separator: "\n") where !line.isEmpty {
            let data = Data(line.utf8)
            let record = try JSONDecoder().decode(ActecRecord.self, from: data)
            guard record.kind == "frame" else { continue }
            if let raw = record.raw {
                result.append((record, Array(raw.utf8)))
            } else {
                let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
                let frame = try JSONSerialization.data(
                    withJSONObject: object["frame"]!,
                    options: [.withoutEscapingSlashes]
                )
                result.append((record, Array(frame)))
            }
        }
        return result
    }

    static func allFrames() throws -> [(record: ActecRecord, frame: [UInt8])] {
        try actecFiles.flatMap { try frames(of: $0) }
    }
}

extension Array where Element == UInt8 {
    init(_ string: String) { self = Array(string.utf8) }
    var text: String { String(decoding: self, as: UTF8.self) }
}

/// Parses JSON bytes into Foundation objects for structural comparisons in tests.
func jsonObject(_ bytes: some Sequence<UInt8>) throws -> NSObject {
    try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as! NSObject
}
