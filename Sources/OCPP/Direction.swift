/// Which way a frame travels through the proxy.
public enum Direction: String, Sendable, Hashable, Codable, CaseIterable {
    /// From the charger, towards the CSMS (or LoadGuard when it answers locally).
    case chargerToCSMS = "charger_to_csms"
    /// Towards the charger, from the CSMS or from LoadGuard.
    case toCharger = "to_charger"
}

/// Who wrote a frame.
public enum Origin: String, Sendable, Hashable, Codable, CaseIterable {
    case charger
    case csms
    /// LoadGuard itself: injected calls and local answers.
    case loadguard
}
