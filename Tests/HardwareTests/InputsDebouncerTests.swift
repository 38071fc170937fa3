import Hardware
import Testing

/// The debounce rule, checked against every waveform of 8 steps on a 10 ms grid.
struct InputsDebouncerTests {
    /// What one input does between two observations.
    enum Step: CaseIterable {
        /// Keeps its level, no edge.
        case hold
        /// Changes level (one edge).
        case toggle
        /// Bounces and comes back to the same level (edges, level unchanged).
        case glitch
    }

    static let tick = Duration.milliseconds(10)

    /// All sequences of `length` steps.
    static func sequences(length: Int) -> [[Step]] {
        var result: [[Step]] = [[]]
        for _ in 0..<length {
            result = result.flatMap { prefix in Step.allCases.map { prefix + [$0] } }
        }
        return result
    }

    /// The levels an input takes, starting at `initial`, and where each steady run begins.
    static func waveform(_ steps: [Step], initial: Bool) -> (levels: [Bool], runStarts: [Int?]) {
        var levels = [initial]
        var runStarts: [Int?] = [nil]  // nil: steady since before the start
        for (index, step) in steps.enumerated() {
            let k = index + 1
            let level = step == .toggle ? !levels[k - 1] : levels[k - 1]
            levels.append(level)
            runStarts.append(step == .hold ? runStarts[k - 1] : k)
        }
        return (levels, runStarts)
    }

    /// The reference: the debounced level follows the input once it has been steady, without
    /// edges, for `debounceTicks` ticks; until then it keeps its previous value.
    static func reference(levels: [Bool], runStarts: [Int?], debounceTicks: Int) -> [Bool] {
        var stable = [levels[0]]
        for k in 1..<levels.count {
            let steadyFor = runStarts[k].map { k - $0 } ?? Int.max
            stable.append(steadyFor >= debounceTicks ? levels[k] : stable[k - 1])
        }
        return stable
    }

    @Test(arguments: 0...3)
    func everyEightStepWaveformOfOneInputIsDebouncedAsSpecified(debounceTicks: Int) {
        let other: [Step] = [.toggle, .hold, .glitch, .hold, .hold, .toggle, .glitch, .hold]
        for initial in [false, true] {
            let otherWave = Self.waveform(other, initial: !initial)
            let otherStable = Self.reference(
                levels: otherWave.levels,
                runStarts: otherWave.runStarts,
                debounceTicks: debounceTicks
            )
            for steps in Self.sequences(length: 8) {
                for watched in 0..<2 {
                    let wave = Self.waveform(steps, initial: initial)
                    let expected = Self.reference(
                        levels: wave.levels,
                        runStarts: wave.runStarts,
                        debounceTicks: debounceTicks
                    )
                    func pair(_ mine: Bool, _ others: Bool) -> DigitalInputState {
                        watched == 0
                            ? DigitalInputState(input1: mine, input2: others)
                            : DigitalInputState(input1: others, input2: mine)
                    }
                    var debouncer = InputDebouncer(
                        initial: pair(wave.levels[0], otherWave.levels[0]),
                        interval: Self.tick * debounceTicks
                    )
                    for k in 1...steps.count {
                        var edges: InputEdges = []
                        if steps[k - 1] != .hold { edges.insert(watched == 0 ? .input1 : .input2) }
                        if other[k - 1] != .hold { edges.insert(watched == 0 ? .input2 : .input1) }
                        let before = debouncer.state
                        let change = debouncer.observe(
                            pair(wave.levels[k], otherWave.levels[k]),
                            edges: edges,
                            at: Self.tick * k
                        )
                        let want = pair(expected[k], otherStable[k])
                        guard debouncer.state == want, change == (want == before ? nil : want) else {
                            let message =
                                "debounce \(debounceTicks) ticks, input \(watched + 1), steps \(steps), tick \(k): "
                                + "state \(debouncer.state), change \(String(describing: change)), expected \(want)"
                            Issue.record("\(message)")
                            return
                        }
                        // A deadline is due exactly when an input differs from its debounced level.
                        let waitingRuns = [
                            wave.levels[k] != expected[k] ? wave.runStarts[k] : nil,
                            otherWave.levels[k] != otherStable[k] ? otherWave.runStarts[k] : nil,
                        ].compactMap { $0 }
                        let wantDeadline = waitingRuns.min().map { Self.tick * ($0 + debounceTicks) }
                        guard debouncer.deadline == wantDeadline else {
                            let message =
                                "steps \(steps), tick \(k): deadline \(String(describing: debouncer.deadline)), "
                                + "expected \(String(describing: wantDeadline))"
                            Issue.record("\(message)")
                            return
                        }
                    }
                }
            }
        }
    }

    @Test func relayBounceCountsOnceTheContactHasHeldForTheInterval() {
        var debouncer = InputDebouncer(initial: .inactive, interval: .milliseconds(50))
        let closed = DigitalInputState(input1: true, input2: false)
        // The contact closes and bounces for 5 ms; each wake-up drains edges and re-reads the level.
        #expect(debouncer.observe(closed, edges: .input1, at: .milliseconds(0)) == nil)
        #expect(debouncer.observe(.inactive, edges: .input1, at: .milliseconds(2)) == nil)
        #expect(debouncer.observe(closed, edges: .input1, at: .milliseconds(5)) == nil)
        #expect(debouncer.deadline == .milliseconds(55))
        // Woken by the deadline, nothing else happened: the new level counts, not a moment earlier.
        #expect(debouncer.observe(closed, at: .milliseconds(54)) == nil)
        #expect(debouncer.observe(closed, at: .milliseconds(55)) == closed)
        #expect(debouncer.state == closed)
        #expect(debouncer.deadline == nil)
    }

    @Test func aPulseShorterThanTheIntervalNeverCounts() {
        var debouncer = InputDebouncer(initial: .inactive, interval: .milliseconds(50))
        let active = DigitalInputState(input1: false, input2: true)
        #expect(debouncer.observe(active, edges: .input2, at: .milliseconds(100)) == nil)
        #expect(debouncer.observe(.inactive, edges: .input2, at: .milliseconds(130)) == nil)
        #expect(debouncer.deadline == nil)
        #expect(debouncer.observe(.inactive, at: .milliseconds(200)) == nil)
        #expect(debouncer.state == .inactive)
    }

    @Test func aBounceSeenOnlyAsEdgesRestartsTheWait() {
        // Between two wake-ups the line went away and came back: the level read is the same,
        // but it has not held since the first read.
        var debouncer = InputDebouncer(initial: .inactive, interval: .milliseconds(50))
        let active = DigitalInputState(input1: true, input2: false)
        #expect(debouncer.observe(active, edges: .input1, at: .milliseconds(0)) == nil)
        #expect(debouncer.observe(active, edges: .input1, at: .milliseconds(40)) == nil)
        #expect(debouncer.deadline == .milliseconds(90))
        #expect(debouncer.observe(active, at: .milliseconds(60)) == nil)
        #expect(debouncer.observe(active, at: .milliseconds(90)) == active)
    }

    @Test func inputsAreDebouncedIndependently() {
        var debouncer = InputDebouncer(initial: .inactive, interval: .milliseconds(50))
        let both = DigitalInputState(input1: true, input2: true)
        #expect(debouncer.observe(DigitalInputState(input1: true, input2: false), edges: .input1, at: .zero) == nil)
        #expect(debouncer.observe(both, edges: .input2, at: .milliseconds(30)) == nil)
        #expect(debouncer.deadline == .milliseconds(50))
        #expect(debouncer.observe(both, at: .milliseconds(50)) == DigitalInputState(input1: true, input2: false))
        #expect(debouncer.deadline == .milliseconds(80))
        #expect(debouncer.observe(both, at: .milliseconds(80)) == both)
    }

    @Test func zeroIntervalFollowsTheLevelAtOnce() {
        var debouncer = InputDebouncer(initial: .inactive, interval: .zero)
        let active = DigitalInputState(input1: true, input2: true)
        #expect(debouncer.observe(active, edges: [.input1, .input2], at: .milliseconds(1)) == active)
        #expect(debouncer.deadline == nil)
        #expect(InputDebouncer(initial: .inactive, interval: .milliseconds(-5)).interval == .zero)
    }
}
