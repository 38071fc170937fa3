import Foundation
import Hardware
import Logging
import Testing

struct InputsSimulatedTests {
    @Test func subscribersGetTheCurrentStateThenEveryChange() async {
        let inputs = SimulatedDigitalInputs()
        var states = await inputs.states().makeAsyncIterator()
        #expect(await states.next() == .inactive)
        #expect(await inputs.set(input1: true) == DigitalInputState(input1: true, input2: false))
        #expect(await states.next() == DigitalInputState(input1: true, input2: false))
        // Setting what is already set publishes nothing; the next value is the next change.
        await inputs.set(input1: true)
        await inputs.set(input2: true)
        #expect(await states.next() == DigitalInputState(input1: true, input2: true))
        await inputs.set(input1: false, input2: false)
        #expect(await states.next() == .inactive)
        #expect(await inputs.state == .inactive)
    }

    @Test func aLateSubscriberStartsWithTheStateNow() async {
        let inputs = SimulatedDigitalInputs(initial: DigitalInputState(input1: false, input2: true))
        await inputs.set(input1: true)
        var states = await inputs.states().makeAsyncIterator()
        #expect(await states.next() == DigitalInputState(input1: true, input2: true))
    }

    @Test func runEndsTheStreamsWhenCancelled() async throws {
        let inputs = SimulatedDigitalInputs()
        let stream = await inputs.states()
        let running = Task { try await inputs.run() }
        var received: [DigitalInputState] = []
        await inputs.set(input2: true)
        running.cancel()
        try await running.value
        for await state in stream { received.append(state) }
        #expect(received == [.inactive, DigitalInputState(input1: false, input2: true)])
        // After run ended, a new stream holds the last state and ends.
        var late: [DigitalInputState] = []
        for await state in await inputs.states() { late.append(state) }
        #expect(late == [DigitalInputState(input1: false, input2: true)])
    }

    @Test func stateDescriptionNamesBothInputs() {
        #expect("\(DigitalInputState(input1: true, input2: false))" == "input1=active input2=inactive")
    }
}

struct InputsGPIODTests {
    private let logger = Logger(label: "test")

    private func decode(_ json: String) throws -> GPIODInputsConfiguration {
        try JSONDecoder().decode(GPIODInputsConfiguration.self, from: Data(json.utf8))
    }

    private func decodingProblem(_ json: String) -> String? {
        do {
            _ = try decode(json)
            return nil
        } catch let DecodingError.dataCorrupted(context) {
            return context.debugDescription
        } catch let DecodingError.keyNotFound(key, _) {
            return "missing \(key.stringValue)"
        } catch {
            return "\(error)"
        }
    }

    @Test func defaultsNeedOnlyTheTwoLines() throws {
        let configuration = try decode(#"{"input1": 17, "input2": 27}"#)
        #expect(configuration == GPIODInputsConfiguration(chip: "gpiochip0", input1: 17, input2: 27))
        #expect(configuration.activeLow == false)
        #expect(configuration.bias == .asIs)
        #expect(configuration.debounce == 0.05)
        #expect(configuration.consumer == "loadguard")
    }

    @Test func snakeCaseKeysAreRead() throws {
        let configuration = try decode(
            #"{"chip": "/dev/gpiochip1", "input1": 3, "input2": 4, "active_low": true, "bias": "pull_up", "#
                + #""debounce": 0.2, "consumer": "ripple"}"#
        )
        #expect(
            configuration
                == GPIODInputsConfiguration(
                    chip: "/dev/gpiochip1",
                    input1: 3,
                    input2: 4,
                    activeLow: true,
                    bias: .pullUp,
                    debounce: 0.2,
                    consumer: "ripple"
                )
        )
    }

    @Test func problemsAreNamedByKey() {
        #expect(decodingProblem(#"{"input1": 17}"#) == "missing input2")
        #expect(
            decodingProblem(#"{"input1": 5, "input2": 5}"#)
                == "gpiod.input1 and gpiod.input2 are both line 5: expected two lines"
        )
        #expect(
            decodingProblem(#"{"input1": 1, "input2": 2, "bias": "pullup"}"#)
                == "gpiod.bias is 'pullup': expected as_is, disable, pull_up, pull_down"
        )
        #expect(
            decodingProblem(#"{"input1": 1, "input2": 2, "debounce": 30}"#)
                == "gpiod.debounce is 30.0: expected seconds from 0 to 10"
        )
        #expect(
            decodingProblem(#"{"input1": 1, "input2": 2, "chip": ""}"#)
                == "gpiod.chip is empty: expected a chip name such as gpiochip0"
        )
    }

    @Test func aMissingChipIsAnErrorNotACrash() {
        let configuration = GPIODInputsConfiguration(chip: "loadguard-no-such-chip", input1: 0, input2: 1)
        #expect(throws: DigitalInputsError.chipNotFound(chip: "loadguard-no-such-chip", reason: "no such chip")) {
            _ = try GPIODInputs(configuration: configuration, logger: logger)
        }
    }

    @Test func aDeviceThatIsNotAGPIOChipIsNamed() {
        let configuration = GPIODInputsConfiguration(chip: "/dev/null", input1: 0, input2: 1)
        let expected = DigitalInputsError.chipNotFound(
            chip: "/dev/null",
            reason: "it is not a GPIO chip character device"
        )
        #expect(throws: expected) {
            _ = try GPIODInputs(configuration: configuration, logger: logger)
        }
        #expect(
            expected.description
                == "GPIO chip '/dev/null' cannot be opened: it is not a GPIO chip character device; expected a chip "
                + "name (gpiochip0), path (/dev/gpiochip0), label or number, as `gpiodetect` lists them"
        )
    }

    @Test func errorMessagesSayWhatToCheck() {
        #expect(
            DigitalInputsError.lineNotFound(chip: "gpiochip0", line: 54, lineCount: 54).description
                == "GPIO chip 'gpiochip0' has no line 54: it has lines 0 to 53 (see `gpioinfo gpiochip0`)"
        )
        #expect(
            DigitalInputsError.lineUnavailable(chip: "gpiochip0", line: 17, reason: "it is in use by 'sysfs'")
                .description == "line 17 of GPIO chip 'gpiochip0' cannot be watched: it is in use by 'sysfs'"
        )
    }
}
