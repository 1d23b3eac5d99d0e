import Crypto
import Foundation
import SovereignBase

/// Held polls: an agent whose answer has not changed since its last poll may ask the control plane to hold
/// its next poll until something about its site changes (or a time passes), so a decision reaches the site
/// at once while an idle site costs one request per hold instead of one per poll interval.
extension SiteAgentExecutor {
    /// How many times `site`'s answer may have changed since this server started (taken before an answer is
    /// computed, so that a change made while it is computed still wakes the poll).
    func generation(of site: String) -> Int { generations[site, default: 0] }

    /// Wakes the polls held for `sites` (every site when `nil`): what their agents should do may have changed.
    func changed(_ sites: Set<String>? = nil) {
        for site in sites ?? self.sites where self.sites.contains(site) {
            generations[site, default: 0] += 1
            for continuation in (heldPolls.removeValue(forKey: site) ?? [:]).values { continuation.resume() }
        }
    }

    /// Returns once `site`'s generation has moved past `seen`, or at `deadline`, whichever comes first.
    func waitForChange(at site: String, after seen: Int, until deadline: ContinuousClock.Instant) async {
        guard generation(of: site) == seen, ContinuousClock.now < deadline else { return }
        nextHeldPoll += 1
        let id = nextHeldPoll
        let timer = Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            await self?.release(id, at: site)
        }
        await withCheckedContinuation { continuation in heldPolls[site, default: [:]][id] = continuation }
        timer.cancel()
    }

    /// Lets one held poll go (its time is up).
    func release(_ id: Int, at site: String) {
        heldPolls[site]?.removeValue(forKey: id)?.resume()
    }

    /// Records that `site`'s agent is alive at the end of a held poll: its lease runs from the answer it gets,
    /// as the agent counts it, not from when its report arrived.
    func heardFrom(_ site: String) {
        contacts[site]?.at = clock().timeIntervalSince1970
    }
}

extension AgentAssignments {
    /// SHA-256 (hex) of the answer without its version, its keys sorted: the same answer always has the
    /// same digest within one server's life (the transfers' secrets change when it restarts, and so does
    /// the digest, which only costs one early answer).
    var digest: String {
        var unversioned = self
        unversioned.version = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = (try? encoder.encode(unversioned)) ?? Data()
        return Hex.encode(Array(SHA256.hash(data: bytes)))
    }
}
