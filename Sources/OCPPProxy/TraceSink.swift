import Foundation
public import Logging
public import OCPP

/// Where every frame is written as one JSON line (see ``TraceRecord``), off the forwarding path:
/// frames are handed to a buffered stream and a background task appends them to the file.
///
/// Failure cases: the file cannot be opened (an error at start, naming the path); a write fails
/// later (logged once, tracing stops, forwarding goes on); the writer falls behind by more than
/// 100,000 lines (the oldest are dropped and the count is logged).
public final class TraceSink: Sendable {
    private let continuation: AsyncStream<[UInt8]>.Continuation
    private let stream: AsyncStream<[UInt8]>
    private let handle: FileHandle
    private let redactor: Redactor
    private let path: String
    private let logger: Logger

    /// Opens (appending to) or creates `path`.
    public init(path: String, redaction: Redactor.Mode = .secrets, logger: Logger) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw TraceSinkError.cannotCreate(path)
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw TraceSinkError.cannotCreate(path) }
        handle.seekToEndOfFile()
        self.handle = handle
        self.path = path
        self.redactor = Redactor(mode: redaction)
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingOldest(100_000))
    }

    /// Writes queued lines until the stream finishes (after ``finish()``).
    public func run() async {
        for await line in stream {
            do {
                try handle.write(contentsOf: line)
            } catch {
                logger.error(
                    "Trace file cannot be written; tracing stops",
                    metadata: ["path": "\(path)", "error": "\(error)"]
                )
                return
            }
        }
        try? handle.synchronize()
    }

    /// Stops accepting lines; ``run()`` returns after writing what was queued.
    public func finish() { continuation.finish() }

    /// Queues one frame.
    func record(
        chargerID: String,
        version: OCPPVersion,
        direction: Direction,
        origin: Origin,
        envelope: Envelope?,
        frame: [UInt8]
    ) {
        let record = TraceRecord(
            timestamp: Date(),
            charger: chargerID,
            version: version,
            direction: direction,
            origin: origin,
            frame: frame,
            envelope: envelope,
            redactor: redactor
        )
        continuation.yield(Array((record.jsonLine() + "\n").utf8))
    }
}

public enum TraceSinkError: Error, CustomStringConvertible {
    case cannotCreate(String)
    public var description: String {
        switch self {
        case .cannotCreate(let path): "cannot open the trace file \(path) for writing"
        }
    }
}
