import Foundation
import Hardware
import Testing

@Suite struct WAVRecordingTests {
    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("wav-\(UUID().uuidString).wav").path
    }

    func blocks(channels: Int, count: Int, rate: Double = 8000) -> [SampleBlock] {
        var first: UInt64 = 0
        return [count, count / 2 + 1].map { n in
            let data: [[Float]] = (0..<channels).map { ch in
                let base = Float(ch * 1000) + Float(first)
                return (0..<n).map { (k: Int) -> Float in base + Float(k) * 0.25 }
            }
            defer { first += UInt64(n) }
            return SampleBlock(sampleRate: rate, firstSample: first, channels: data)
        }
    }

    @Test(arguments: [6, 7])
    func roundTrip(channels: Int) async throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let written = blocks(channels: channels, count: 1000)
        let writer = try WAVRecordingWriter(path: path, sampleRate: 8000, channelCount: channels)
        for b in written { try writer.write(b) }
        try writer.finish()
        #expect(writer.frameCount == 1501)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        #expect(size == WAVFormat.headerSize + 1501 * channels * 4)

        let source = try RecordingSampleSource(path: path, blockSize: 600)
        #expect(source.sampleRate == 8000 && source.channelCount == channels && source.format.frameCount == 1501)
        var read: [SampleBlock] = []
        while let b = try await source.nextBlock() { read.append(b) }
        #expect(read.map(\.count) == [600, 600, 301])
        #expect(read.map(\.firstSample) == [0, 600, 1200])
        for ch in 0..<channels {
            #expect(read.flatMap { $0.channels[ch] } == written.flatMap { $0.channels[ch] })
        }
    }

    @Test func anUnfinishedRecordingIsReadToItsEnd() async throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let writer = try WAVRecordingWriter(path: path, sampleRate: 4000, channelCount: 6)
            try writer.write(blocks(channels: 6, count: 100, rate: 4000)[0])
            // No finish(): the header still says "to the end of the file".
        }
        let source = try RecordingSampleSource(path: path)
        #expect(source.format.frameCount == 100)
        let block = try #require(try await source.nextBlock())
        #expect(block.count == 100 && block[.i3][99] == 5000 + 99 * 0.25)
    }

    /// A minimal WAVE_FORMAT_IEEE_FLOAT (non-extensible) file, with a LIST chunk before the data.
    func plainFloatFile(
        channels: Int = 6,
        bits: UInt16 = 32,
        format: UInt16 = 3,
        frames: Int = 2,
        declaredFrames: Int? = nil
    ) -> [UInt8] {
        var out: [UInt8] = []
        func u16(_ v: UInt16) { out += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: Int) { u16(UInt16(v & 0xFFFF)); u16(UInt16(v >> 16)) }
        let data = frames * channels * 4
        out += Array("RIFF".utf8); u32(4 + 24 + 12 + 8 + data)
        out += Array("WAVE".utf8)
        out += Array("fmt ".utf8); u32(16)
        u16(format); u16(UInt16(channels)); u32(2000); u32(2000 * channels * 4); u16(UInt16(channels * 4)); u16(bits)
        out += Array("LIST".utf8); u32(3); out += [1, 2, 3, 0]
        out += Array("data".utf8); u32((declaredFrames ?? frames) * channels * 4)
        for i in 0..<(frames * channels) { out += withUnsafeBytes(of: Float(i).bitPattern.littleEndian, Array.init) }
        return out
    }

    @Test func readsPlainIEEEFloatFiles() throws {
        let bytes = plainFloatFile()
        let format = try WAVFormat.parse(bytes, fileSize: bytes.count, name: "plain.wav")
        #expect(format.channelCount == 6 && format.sampleRate == 2000 && format.frameCount == 2)
        #expect(format.dataOffset == bytes.count - 48)
    }

    @Test(arguments: [
        ("RIFX", "expected 'RIFF' at byte 0, found 'RIFX'"),
        ("pcm", "found format 1 (integer PCM)"),
        ("stereo", "expected 6 channels (V1 V2 V3 I1 I2 I3) or 7 (with IN), found 2"),
        ("16bit", "expected 32 bits per sample, found 16"),
        ("truncated", "truncated"),
        ("nodata", "expected a 'data' chunk"),
        ("short", "at least 12 bytes"),
    ])
    func malformedFilesSayWhatIsWrong(kind: String, message: String) {
        var bytes: [UInt8]
        switch kind {
        case "RIFX": bytes = plainFloatFile(); bytes[3] = UInt8(ascii: "X")
        case "pcm": bytes = plainFloatFile(format: 1)
        case "stereo": bytes = plainFloatFile(channels: 2)
        case "16bit": bytes = plainFloatFile(bits: 16)
        case "truncated": bytes = plainFloatFile(frames: 2, declaredFrames: 50)
        case "nodata": bytes = Array(plainFloatFile().prefix(12 + 24 + 12))
        default: bytes = Array("RIFF".utf8)
        }
        do {
            _ = try WAVFormat.parse(bytes, fileSize: bytes.count, name: "bad.wav")
            Issue.record("accepted a malformed file (\(kind))")
        } catch {
            guard case .malformed(let text) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(text.hasPrefix("bad.wav: "))
            #expect(text.contains(message), "\(text)")
        }
    }

    @Test func missingFileAndNonFiniteSamplesAreReported() async throws {
        #expect(
            throws: SampleSourceError.unavailable(
                "cannot open recording '/nonexistent/x.wav': no such file or not readable"
            )
        ) {
            try RecordingSampleSource(path: "/nonexistent/x.wav")
        }
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var channels = [[Float]](repeating: [0, 1, 2], count: 6)
        channels[4][2] = .nan
        let writer = try WAVRecordingWriter(path: path, sampleRate: 8000, channelCount: 6)
        try writer.write(SampleBlock(sampleRate: 8000, firstSample: 0, channels: channels))
        try writer.finish()
        let source = try RecordingSampleSource(path: path)
        await #expect(
            throws: SampleSourceError.malformed(
                "\(path): expected finite samples, found a NaN or infinity at frame 2, channel I2"
            )
        ) {
            try await source.nextBlock()
        }
    }

    @Test func writerRejectsMismatchedBlocks() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try WAVRecordingWriter(path: path, sampleRate: 8000, channelCount: 6)
        #expect(throws: SampleSourceError.self) {
            try writer.write(
                SampleBlock(sampleRate: 4000, firstSample: 0, channels: [[Float]](repeating: [0], count: 6))
            )
        }
        #expect(throws: SampleSourceError.self) {
            try WAVRecordingWriter(path: path, sampleRate: 8000, channelCount: 3)
        }
    }
}
