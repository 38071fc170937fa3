import CIIO
import Glibc
import Logging
import Synchronization

/// One open libiio context with the device's capture channels enabled and a buffer created.
///
/// The thin layer over libiio: everything here is a C call and its error check. Ownership:
/// - `refill()` is called only by the capture thread of ``IIOSampleSource``.
/// - `cancel()` may be called from any thread; it only sets a flag and calls `iio_buffer_cancel`,
///   which libiio documents as thread-safe and which makes a blocked `iio_buffer_refill` return.
/// - The buffer and context are destroyed in `deinit`, when neither the capture thread nor the
///   source holds the object any more, so no call can race with their destruction.
final class IIOCapture: @unchecked Sendable {
    /// A sample channel and the IIO channel that delivers it.
    struct Channel {
        var sampleChannel: SampleChannel
        var iioChannel: OpaquePointer
        var bytesPerSample: Int
        var isSigned: Bool
        var conversion: SampleConversion
    }

    /// Why a refill produced no block.
    enum RefillFailure: Error {
        /// No data within the context timeout.
        case timedOut
        /// ``cancel()`` was called.
        case cancelled
        /// Any other libiio error, with its errno.
        case failed(errno: Int32, message: String)
    }

    private let context: OpaquePointer
    private let buffer: OpaquePointer
    private let channels: [Channel]
    private let cancelled = Atomic<Bool>(false)
    /// Where the samples come from, for log and error messages: `ade9000 at local:`.
    let origin: String

    private init(context: OpaquePointer, buffer: OpaquePointer, channels: [Channel], origin: String) {
        self.context = context
        self.buffer = buffer
        self.channels = channels
        self.origin = origin
    }

    deinit {
        iio_buffer_destroy(buffer)
        iio_context_destroy(context)
    }

    /// Opens the context, finds the device and channels, checks the sample rate, enables the
    /// channels and creates the buffer (which starts the capture).
    static func open(
        _ configuration: IIOSourceConfiguration,
        logger: Logger
    ) throws(SampleSourceError) -> IIOCapture {
        guard let context = iio_create_context_from_uri(configuration.uri) else {
            let error = errno
            throw .unavailable(
                "cannot open the IIO context '\(configuration.uri)': \(describe(errno: error)); "
                    + "expected local: (with the ADC's driver loaded) or ip:HOST with iiod running on HOST"
            )
        }
        do {
            let (buffer, channels) = try setUp(context: context, configuration, logger: logger)
            return IIOCapture(
                context: context,
                buffer: buffer,
                channels: channels,
                origin: "\(configuration.device) at \(configuration.uri)"
            )
        } catch {
            iio_context_destroy(context)
            throw error
        }
    }

    private static func setUp(
        context: OpaquePointer,
        _ configuration: IIOSourceConfiguration,
        logger: Logger
    ) throws(SampleSourceError) -> (OpaquePointer, [Channel]) {
        let deviceName = configuration.device
        guard let device = iio_context_find_device(context, deviceName) else {
            throw .unavailable(
                "no IIO device '\(deviceName)' at \(configuration.uri); devices there: \(deviceList(context))"
            )
        }
        // Every input scan channel off; then exactly the configured ones on.
        for index in 0..<iio_device_get_channels_count(device) {
            if let channel = iio_device_get_channel(device, index) { iio_channel_disable(channel) }
        }
        var channels: [Channel] = []
        for sampleChannel in configuration.sampleChannels {
            let name = configuration.channels[sampleChannel]!
            guard let iioChannel = iio_device_find_channel(device, name, false) else {
                throw .missingChannel(device: deviceName, channel: name)
            }
            guard iio_channel_is_scan_element(iioChannel) else {
                throw .unavailable(
                    "channel '\(name)' of '\(deviceName)' cannot be captured: it is not a buffer (scan) channel"
                )
            }
            let format = iio_channel_get_data_format(iioChannel)!.pointee
            guard [8, 16, 32, 64].contains(format.length), format.repeat <= 1 else {
                throw .malformed(
                    "channel '\(name)' of '\(deviceName)' has samples of \(format.length) bits × \(format.repeat); "
                        + "expected one sample of 8, 16, 32 or 64 bits"
                )
            }
            iio_channel_enable(iioChannel)
            channels.append(
                Channel(
                    sampleChannel: sampleChannel,
                    iioChannel: iioChannel,
                    bytesPerSample: Int(format.length / 8),
                    isSigned: format.is_signed,
                    conversion: configuration.conversion(for: sampleChannel)
                )
            )
        }
        try checkSampleRate(device: device, firstChannel: channels[0].iioChannel, configuration, logger: logger)

        let timeoutMilliseconds = UInt32(min(configuration.refillTimeout * 1000, Double(UInt32.max)).rounded(.up))
        var status = iio_context_set_timeout(context, timeoutMilliseconds)
        if status < 0 {
            throw .unavailable("cannot set the IIO timeout of \(configuration.uri): \(describe(errno: -status))")
        }
        status = iio_device_set_kernel_buffers_count(device, UInt32(configuration.kernelBuffers))
        if status < 0 {
            logger.warning(
                "The IIO device does not take a kernel buffer count",
                metadata: ["iio.device": "\(deviceName)", "error": "\(describe(errno: -status))"]
            )
        }
        guard let buffer = iio_device_create_buffer(device, configuration.bufferSize, false) else {
            let error = errno
            throw .unavailable(
                "cannot start capture on '\(deviceName)' at \(configuration.uri) with \(configuration.bufferSize) "
                    + "samples per block: \(describe(errno: error))"
            )
        }
        return (buffer, channels)
    }

    /// The device's `sampling_frequency` (device or channel attribute), when it has one, must match.
    private static func checkSampleRate(
        device: OpaquePointer,
        firstChannel: OpaquePointer,
        _ configuration: IIOSourceConfiguration,
        logger: Logger
    ) throws(SampleSourceError) {
        var reported = 0.0
        var found = false
        if iio_device_find_attr(device, "sampling_frequency") != nil {
            found = iio_device_attr_read_double(device, "sampling_frequency", &reported) == 0
        } else if iio_channel_find_attr(firstChannel, "sampling_frequency") != nil {
            found = iio_channel_attr_read_double(firstChannel, "sampling_frequency", &reported) == 0
        }
        guard found else {
            logger.info(
                "The IIO device does not report its sample rate; using the configured one",
                metadata: ["iio.device": "\(configuration.device)", "sample_rate": "\(configuration.sampleRate)"]
            )
            return
        }
        if abs(reported - configuration.sampleRate) > configuration.sampleRate * 0.001 {
            throw .unavailable(
                "'\(configuration.device)' at \(configuration.uri) samples at \(reported) S/s (its sampling_frequency) "
                    + "but iio.sample_rate is \(configuration.sampleRate): set sample_rate to the device's rate"
            )
        }
    }

    private static func deviceList(_ context: OpaquePointer) -> String {
        let count = iio_context_get_devices_count(context)
        guard count > 0 else { return "none" }
        return (0..<count).compactMap { index -> String? in
            guard let device = iio_context_get_device(context, index) else { return nil }
            let id = String(cString: iio_device_get_id(device))
            guard let name = iio_device_get_name(device) else { return id }
            return "\(String(cString: name)) (\(id))"
        }.joined(separator: ", ")
    }

    /// libiio's text for an errno, which ends with the number: `Connection refused (111)`.
    static func describe(errno error: Int32) -> String {
        var text = [CChar](repeating: 0, count: 256)
        iio_strerror(error, &text, text.count)
        let message = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return message
    }

    /// Stops the capture: a blocked or later `refill()` returns `.cancelled`. Any thread, idempotent.
    func cancel() {
        if cancelled.exchange(true, ordering: .acquiringAndReleasing) == false {
            iio_buffer_cancel(buffer)
        }
    }

    /// Waits for the next block and converts it to sensor values, one array per channel in
    /// ``SampleChannel`` order. Only the capture thread calls this.
    func refill() -> Result<[[Float]], RefillFailure> {
        if cancelled.load(ordering: .acquiring) { return .failure(.cancelled) }
        let bytes = iio_buffer_refill(buffer)
        if cancelled.load(ordering: .acquiring) { return .failure(.cancelled) }
        if bytes < 0 {
            let error = Int32(-bytes)
            if error == ETIMEDOUT { return .failure(.timedOut) }
            return .failure(.failed(errno: error, message: Self.describe(errno: error)))
        }
        let step = iio_buffer_step(buffer)
        let count = step > 0 ? Int(bytes) / step : 0
        if count == 0 {
            return .failure(.failed(errno: EIO, message: "the device delivered no samples (\(bytes) bytes)"))
        }
        return .success(channels.map { convert($0, count: count) })
    }

    private func convert(_ channel: Channel, count: Int) -> [Float] {
        let conversion = channel.conversion
        let raw = UnsafeMutableRawBufferPointer.allocate(
            byteCount: max(1, count * channel.bytesPerSample),
            alignment: 8
        )
        defer { raw.deallocate() }
        // Demultiplexes the channel and applies its format: byte order, shift, sign extension.
        let written = iio_channel_read(channel.iioChannel, buffer, raw.baseAddress, count * channel.bytesPerSample)
        let samples = written / channel.bytesPerSample
        return [Float](unsafeUninitializedCapacity: samples) { values, initialized in
            switch (channel.bytesPerSample, channel.isSigned) {
            case (1, true): Self.fill(&values, raw, Int8.self, samples, conversion)
            case (1, false): Self.fill(&values, raw, UInt8.self, samples, conversion)
            case (2, true): Self.fill(&values, raw, Int16.self, samples, conversion)
            case (2, false): Self.fill(&values, raw, UInt16.self, samples, conversion)
            case (4, true): Self.fill(&values, raw, Int32.self, samples, conversion)
            case (4, false): Self.fill(&values, raw, UInt32.self, samples, conversion)
            case (8, true): Self.fill(&values, raw, Int64.self, samples, conversion)
            default: Self.fill(&values, raw, UInt64.self, samples, conversion)
            }
            initialized = samples
        }
    }

    private static func fill<Code: FixedWidthInteger>(
        _ values: inout UnsafeMutableBufferPointer<Float>,
        _ raw: UnsafeMutableRawBufferPointer,
        _: Code.Type,
        _ count: Int,
        _ conversion: SampleConversion
    ) {
        for index in 0..<count {
            let code = raw.load(fromByteOffset: index * MemoryLayout<Code>.size, as: Code.self)
            values.initializeElement(at: index, to: conversion.value(ofCode: Int64(truncatingIfNeeded: code)))
        }
    }
}
