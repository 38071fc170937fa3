import Testing

@testable import OCPP

@Suite struct InjectedCallIDTests {
    @Test func idsHaveThePrefixTheTokenAndACounter() {
        var ids = InjectedCallIDs(token: "abcdefgh2345")
        #expect(ids.next() == "lg-abcdefgh2345-1")
        #expect(ids.next() == "lg-abcdefgh2345-2")
        #expect(ids.counter == 2)
    }

    @Test func theLongestIDFitsOCPPsLimit() {
        var ids = InjectedCallIDs(token: "abcdefgh2345", startingAfter: UInt64.max - 1)
        let longest = ids.next()
        #expect(longest.utf8.count == InjectedCallIDs.maximumIDLength)
        #expect(ids.isInjected(longest))
    }

    @Test func randomTokensAreValidAndDiffer() {
        var random = SeededGenerator(seed: 42)
        var tokens = Set<String>()
        for _ in 0..<1000 {
            let token = InjectedCallIDs.randomToken(using: &random)
            #expect(InjectedCallIDs.isValidToken(token))
            tokens.insert(token)
        }
        #expect(tokens.count == 1000)
        #expect(!InjectedCallIDs.isValidToken("ABCDEFGH2345"))
        #expect(!InjectedCallIDs.isValidToken("abcdefgh234"))
        #expect(!InjectedCallIDs.isValidToken("abcdefgh2340"))
    }

    @Test func isInjectedRecognizesOnlyThisProcesssToken() {
        let ids = InjectedCallIDs(token: "abcdefgh2345")
        #expect(ids.isInjected("lg-abcdefgh2345-17"))
        #expect(!ids.isInjected("lg-abcdefgh2345-"))
        #expect(!ids.isInjected("lg-abcdefgh2345-1x"))
        #expect(!ids.isInjected("lg-zzzzzzzzzzzz-17"))
        #expect(!ids.isInjected("lg-abcdefgh2345-123456789012345678901"))
        #expect(!ids.isInjected("19223201"))
        #expect(!ids.isInjected("3e4a1c2b-5d6f-4a8b-9c0d-1e2f3a4b5c6d"))
        #expect(InjectedCallIDs.hasReservedPrefix("lg-zzzzzzzzzzzz-17"))
        #expect(!InjectedCallIDs.hasReservedPrefix("LG-1"))
    }

    @Test func generatorsOfDifferentChargersShareTheTokenButCountSeparately() {
        var a = InjectedCallIDs(token: "abcdefgh2345")
        var b = InjectedCallIDs(token: "abcdefgh2345")
        #expect(a.next() == b.next())
        #expect(a.isInjected(b.next()))
    }
}
