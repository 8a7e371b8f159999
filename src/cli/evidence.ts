/** --evidence: the second pass that writes the problem connections' packets. */
import { ConnectionSelector, EvidenceError, writeEvidence } from "../report/evidence.js";
import type { ReportArgs, RunResult } from "./common.js";
import { atomicTarget, OutputError } from "./output.js";

export async function finishEvidence(a: ReportArgs, inputs: string[], result: RunResult): Promise<void> {
  const target = a.evidence!;
  const tmp = atomicTarget(target);
  try {
    const r = await writeEvidence({
      inputs,
      out: tmp.path,
      select: new ConnectionSelector(result.problemConnections),
      anonymizer: result.anonymizer,
    });
    tmp.commit();
    const dropped = result.problemConnectionsDropped;
    const note = dropped > 0 ? ` (the first ${result.problemConnections.length} problem connections; ${dropped} more left out)` : "";
    process.stderr.write(
      `synsent: evidence: ${r.packets} packets of ${result.problemConnections.length} problem connections written to ${target}${r.format === "pcapng" ? " (pcapng: several link types)" : ""}${note}\n`,
    );
  } catch (e) {
    tmp.abort();
    if (e instanceof EvidenceError) throw new OutputError(e.message.replace(tmp.path, target));
    throw e;
  }
}
