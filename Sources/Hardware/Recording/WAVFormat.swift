/// The layout of a LoadGuard recording: a RIFF/WAVE file of 6 or 7 channels of 32-bit IEEE float
/// samples (V1 V2 V3 I1 I2 I3 [IN], volts and amperes at the sensor), little-endian, interleaved.
///
/// Both `WAVE_FORMAT_IEEE_FLOAT` (3) and `WAVE_FORMAT_EXTENSIBLE` (0xFFFE) with the IEEE-float
/// sub-format are read; ``header(sampleRate:channelCount:frameCount:)`` writes the extensible form
/// (what sox and numpy expect for more than two channels) with a `fact` chunk. Unknown chunks
/// (`LIST`, `PEAK`, …) are skipped. A data size of 0xFFFFFFFF means "to the end of the file", so a
/// recording whose writer stopped before ``WAVRecordingWriter/finish()`` can still be read.
public struct WAVFormat: Sendable, Equatable {
    /// Frames per second.
    public var sampleRate: Double
    /// 6 or 7.
    public var channelCount: Int
    /// Byte offset of the first sample in the file.
    public var dataOffset: Int
    /// Bytes of sample data (whole frames only).
    public var dataByteCount: Int

    /// Bytes per frame: four per channel.
    public var frameSize: Int { channelCount * 4 }
    /// Frames in the file.
    public var frameCount: Int { dataByteCount / frameSize }

    static let formatIEEEFloat: UInt16 = 3
    static let formatExtensible: UInt16 = 0xFFFE
    /// KSDATAFORMAT_SUBTYPE_IEEE_FLOAT after its first two bytes (which hold the format code 3).
    static let subformatTail: [UInt8] = [
        0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
    ]
    /// Size of the header ``header(sampleRate:channelCount:frameCount:)`` writes.
    public static let headerSize = 80

    /// Reads the format from the first bytes of a file.
    ///
    /// - Parameters:
    ///   - bytes: the start of the file, at least up to the `data` chunk's header.
    ///   - fileSize: the size of the whole file, to detect a truncated recording.
    ///   - name: the file's name, for error messages.
    public static func parse(_ bytes: [UInt8], fileSize: Int, name: String) throws(SampleSourceError) -> WAVFormat {
        func fail(_ what: String) -> SampleSourceError { .malformed("\(name): \(what)") }
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
        func tag(_ at: Int) -> String {
            String(
                decoding: bytes[at..<at + 4].map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") },
                as: UTF8.self
            )
        }

        guard bytes.count >= 12 else {
            throw fail("expected a RIFF/WAVE header of at least 12 bytes, found a file of \(bytes.count) bytes")
        }
        if tag(0) == "RF64" { throw fail("RF64 (recordings over 4 GiB) is not supported; split the recording") }
        guard tag(0) == "RIFF" else { throw fail("expected 'RIFF' at byte 0, found '\(tag(0))'") }
        guard tag(8) == "WAVE" else { throw fail("expected 'WAVE' at byte 8, found '\(tag(8))'") }

        var position = 12
        var format: (rate: UInt32, channels: Int)?
        while position + 8 <= bytes.count {
            let id = tag(position)
            let size = Int(u32(position + 4))
            let body = position + 8
            switch id {
            case "fmt ":
                guard size >= 16, body + 16 <= bytes.count else {
                    throw fail("expected a 'fmt ' chunk of at least 16 bytes at byte \(position), found \(size)")
                }
                var code = u16(body)
                let channels = Int(u16(body + 2))
                let rate = u32(body + 4)
                let blockAlign = Int(u16(body + 12))
                let bits = Int(u16(body + 14))
                if code == formatExtensible {
                    guard size >= 40, body + 40 <= bytes.count else {
                        throw fail("expected a 40-byte WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk, found \(size) bytes")
                    }
                    guard Array(bytes[body + 26..<body + 40]) == subformatTail else {
                        throw fail("expected the IEEE-float sub-format GUID in WAVE_FORMAT_EXTENSIBLE, found another")
                    }
                    code = u16(body + 24)
                }
                guard code == formatIEEEFloat else {
                    throw fail(
                        "expected 32-bit IEEE float samples (format 3), found format \(code)"
                            + (code == 1
                                ? " (integer PCM): convert with `sox in.wav -e floating-point -b 32 out.wav`" : "")
                    )
                }
                guard bits == 32 else { throw fail("expected 32 bits per sample, found \(bits)") }
                guard channels == 6 || channels == 7 else {
                    throw fail("expected 6 channels (V1 V2 V3 I1 I2 I3) or 7 (with IN), found \(channels)")
                }
                guard blockAlign == channels * 4 else {
                    throw fail("expected a block alignment of \(channels * 4) bytes, found \(blockAlign)")
                }
                guard rate > 0 else { throw fail("expected a sample rate above 0, found 0") }
                format = (rate, channels)
            case "data":
                guard let format else {
                    throw fail("expected the 'fmt ' chunk before the 'data' chunk at byte \(position)")
                }
                let available = fileSize - body
                var dataSize = size
                if u32(position + 4) == 0xFFFF_FFFF {
                    dataSize = max(0, available)
                } else if dataSize > available {
                    throw fail(
                        "the 'data' chunk declares \(dataSize) bytes but the file ends "
                            + "\(max(0, available)) bytes after it starts: truncated"
                    )
                }
                let frameSize = format.channels * 4
                return WAVFormat(
                    sampleRate: Double(format.rate),
                    channelCount: format.channels,
                    dataOffset: body,
                    dataByteCount: dataSize / frameSize * frameSize
                )
            default:
                break
            }
            position = body + size + (size & 1)
        }
        throw fail(
            format == nil
                ? "expected a 'fmt ' chunk, found none"
                : "expected a 'data' chunk, found none in the first \(bytes.count) bytes"
        )
    }

    /// The 80-byte header of a recording: RIFF, an extensible `fmt ` chunk, `fact`, and the `data`
    /// chunk header. With `frameCount` nil, sizes are written as 0xFFFFFFFF ("to end of file").
    public static func header(sampleRate: UInt32, channelCount: Int, frameCount: UInt32?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(headerSize)
        func put16(_ v: UInt16) { out += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func put32(_ v: UInt32) { put16(UInt16(v & 0xFFFF)); put16(UInt16(v >> 16)) }
        func putTag(_ s: String) { out += Array(s.utf8) }
        let frameSize = UInt32(channelCount * 4)
        let dataSize = frameCount.map { $0 * frameSize }
        putTag("RIFF")
        put32(dataSize.map { UInt32(headerSize - 8) + $0 } ?? 0xFFFF_FFFF)
        putTag("WAVE")
        putTag("fmt ")
        put32(40)
        put16(formatExtensible)
        put16(UInt16(channelCount))
        put32(sampleRate)
        put32(sampleRate * frameSize)
        put16(UInt16(frameSize))
        put16(32)
        put16(22)
        put16(32)
        put32(0)
        put16(formatIEEEFloat)
        out += subformatTail
        putTag("fact")
        put32(4)
        put32(frameCount ?? 0)
        putTag("data")
        put32(dataSize ?? 0xFFFF_FFFF)
        return out
    }
}
