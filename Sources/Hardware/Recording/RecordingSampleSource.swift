import Foundation

/// The `recording` meter backend: replays a 6- or 7-channel 32-bit float WAV file (see
/// ``WAVFormat``) as blocks of samples at the file's sample rate, as fast as asked, and returns
/// `nil` at the end of the file.
///
/// A trailing partial frame is ignored. A sample that is not a finite number (NaN or infinity)
/// is reported as ``SampleSourceError/malformed(_:)`` with its frame and channel, because it
/// would poison every reading after it.
public actor RecordingSampleSource: SampleSource {
    public nonisolated let sampleRate: Double
    public nonisolated let channelCount: Int
    /// The parsed header.
    public nonisolated let format: WAVFormat
    private let handle: FileHandle
    private let path: String
    private let blockSize: Int
    private var nextFrame = 0

    /// Opens a recording.
    /// - Parameters:
    ///   - path: the WAV file.
    ///   - blockSize: frames per delivered block (default: a tenth of a second).
    public init(path: String, blockSize: Int? = nil) throws(SampleSourceError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .unavailable("cannot open recording '\(path)': no such file or not readable")
        }
        let prefix: Data
        let fileSize: Int
        do {
            fileSize = Int(try handle.seekToEnd())
            try handle.seek(toOffset: 0)
            prefix = try handle.read(upToCount: 1 << 20) ?? Data()
        } catch {
            throw .unavailable("cannot read recording '\(path)': \(error)")
        }
        let format = try WAVFormat.parse([UInt8](prefix), fileSize: fileSize, name: path)
        self.format = format
        self.handle = handle
        self.path = path
        sampleRate = format.sampleRate
        channelCount = format.channelCount
        self.blockSize = max(1, blockSize ?? Int((format.sampleRate / 10).rounded(.up)))
    }

    public func nextBlock() async throws -> SampleBlock? {
        let frames = min(blockSize, format.frameCount - nextFrame)
        guard frames > 0 else { return nil }
        let data: Data
        do {
            try handle.seek(toOffset: UInt64(format.dataOffset + nextFrame * format.frameSize))
            data = try handle.read(upToCount: frames * format.frameSize) ?? Data()
        } catch {
            throw SampleSourceError.unavailable("cannot read recording '\(path)': \(error)")
        }
        guard data.count == frames * format.frameSize else {
            throw SampleSourceError.malformed(
                "\(path): expected \(frames * format.frameSize) bytes at frame \(nextFrame), "
                    + "found \(data.count): the file shrank"
            )
        }
        let channels = format.channelCount
        var out = [[Float]](repeating: [Float](repeating: 0, count: frames), count: channels)
        var bad: (frame: Int, channel: Int)?
        data.withUnsafeBytes { raw in
            for ch in 0..<channels {
                out[ch].withUnsafeMutableBufferPointer { dst in
                    for f in 0..<frames {
                        let bits = raw.loadUnaligned(fromByteOffset: (f * channels + ch) * 4, as: UInt32.self)
                        let value = Float(bitPattern: UInt32(littleEndian: bits))
                        if !value.isFinite, bad == nil { bad = (f, ch) }
                        dst[f] = value
                    }
                }
            }
        }
        if let bad {
            let name = SampleChannel(rawValue: bad.channel)?.description ?? "\(bad.channel)"
            throw SampleSourceError.malformed(
                "\(path): expected finite samples, "
                    + "found a NaN or infinity at frame \(nextFrame + bad.frame), channel \(name)"
            )
        }
        let block = SampleBlock(sampleRate: sampleRate, firstSample: UInt64(nextFrame), channels: out)
        nextFrame += frames
        return block
    }
}

/// Writes blocks of samples as a recording (see ``WAVFormat``), for `loadguard record`.
///
/// Owned by one task. The header is written first with "to end of file" sizes, so a recording
/// cut short by a crash is still readable; ``finish()`` writes the exact sizes and closes the file.
public final class WAVRecordingWriter {
    public let path: String
    public let sampleRate: Double
    public let channelCount: Int
    public private(set) var frameCount = 0
    private let handle: FileHandle
    private var finished = false

    /// Creates (or truncates) `path` and writes the header.
    public init(path: String, sampleRate: Double, channelCount: Int) throws(SampleSourceError) {
        guard channelCount == 6 || channelCount == 7 else {
            throw .malformed("\(path): a recording has 6 or 7 channels, asked for \(channelCount)")
        }
        guard sampleRate >= 1, sampleRate < Double(UInt32.max), sampleRate == sampleRate.rounded() else {
            throw .malformed("\(path): a recording needs a whole sample rate of at least 1 Hz, asked for \(sampleRate)")
        }
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw .unavailable("cannot create recording '\(path)'")
        }
        self.path = path
        self.sampleRate = sampleRate
        self.channelCount = channelCount
        self.handle = handle
        let header = WAVFormat.header(sampleRate: UInt32(sampleRate), channelCount: channelCount, frameCount: nil)
        try write(Data(header))
    }

    deinit {
        if !finished { try? handle.close() }
    }

    /// Appends a block; its channel count and rate must match the recording's.
    public func write(_ block: SampleBlock) throws(SampleSourceError) {
        guard !finished else { throw .malformed("\(path): recording already finished") }
        guard block.channels.count == channelCount, block.sampleRate == sampleRate else {
            throw .malformed(
                "\(path): expected blocks of \(channelCount) channels at \(sampleRate) Hz, "
                    + "found \(block.channels.count) at \(block.sampleRate) Hz"
            )
        }
        let frames = block.count
        guard UInt64(frameCount + frames) * UInt64(channelCount * 4) + UInt64(WAVFormat.headerSize) < UInt64(UInt32.max)
        else {
            throw .malformed("\(path): a recording is limited to 4 GiB; start a new file")
        }
        var bytes = [UInt8](repeating: 0, count: frames * channelCount * 4)
        bytes.withUnsafeMutableBytes { raw in
            for ch in 0..<channelCount {
                block.channels[ch].withUnsafeBufferPointer { src in
                    for f in 0..<frames {
                        raw.storeBytes(
                            of: src[f].bitPattern.littleEndian,
                            toByteOffset: (f * channelCount + ch) * 4,
                            as: UInt32.self
                        )
                    }
                }
            }
        }
        try write(Data(bytes))
        frameCount += frames
    }

    /// Writes the final sizes into the header and closes the file.
    public func finish() throws(SampleSourceError) {
        guard !finished else { return }
        finished = true
        let header = WAVFormat.header(
            sampleRate: UInt32(sampleRate),
            channelCount: channelCount,
            frameCount: UInt32(frameCount)
        )
        do {
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: Data(header))
            try handle.close()
        } catch {
            throw .unavailable("cannot finish recording '\(path)': \(error)")
        }
    }

    private func write(_ data: Data) throws(SampleSourceError) {
        do {
            try handle.write(contentsOf: data)
        } catch {
            throw .unavailable("cannot write recording '\(path)': \(error)")
        }
    }
}
