import Foundation
import SovereignModel

extension ControlPlane {
    /// A site agent's poll: records its report (and its site's power, when it sends it), looks at once when
    /// the report says something ended, and answers with what should run at the site now.
    ///
    /// - Throws: ``ControlError`` (`unknownSite`, `noSiteAgent`) for a site that is not in the fleet or
    ///   whose work the server runs itself.
    public func agentPoll(site: String, report: AgentReport, by actor: Requester) async throws -> AgentAssignments {
        guard fleet.site(named: site) != nil else { throw ControlError.unknownSite(site) }
        guard let agents, agents.sites.contains(site) else {
            throw ControlError(
                .noSiteAgent,
                "expected a site whose work runs through a site agent (serve --site-agents), found \"\(site)\", whose work the server runs itself",
                field: "site"
            )
        }
        let ended = await agents.receive(report, from: site)
        if let power = report.power {
            _ = try await receivePower(
                site: site,
                available: power.available,
                forecast: power.forecast.map { (at: $0.at, available: $0.available) },
                ambient: power.ambient,
                by: actor
            )
        } else if ended {
            try await reconcile()
        }
        var answer = try assignments(for: site, lease: agents.lease)
        answer.logRequests = await agents.logRequests(for: site)
        return answer
    }

    /// Every open attempt at `site`, as its agent should run it.
    func assignments(for site: String, lease: TimeSpan) throws -> AgentAssignments {
        let attempts = try store.openAttempts().filter { $0.site == site }
        return AgentAssignments(
            site: site,
            leaseSeconds: lease.seconds,
            attempts: attempts.compactMap { attempt in
                guard let id = attempt.id, let run = specs[attempt.workload]?.run else { return nil }
                return Assignment(
                    id: id,
                    workload: attempt.workload,
                    number: attempt.number,
                    pool: attempt.pool,
                    accelerators: attempt.accelerators,
                    resume: attempt.resume,
                    command: run.command,
                    environment: run.environment,
                    gracePeriodSeconds: run.gracePeriod.seconds,
                    stop: attempt.termAt != nil,
                    kill: attempt.killAt != nil
                )
            }
        )
    }
}
