// Lab 5's CPU-heavy path: a deliberately naive fraud check, off unless PAYMENTS_FRAUD_ROUNDS > 0.
// It re-scores the payment against `rounds` synthetic past payments in plain JavaScript (no
// native crypto), so every sample taken while it runs has a V8 frame named scoreFraudRisk on
// top: the function a person should find in the profile (npm run lab:profiling). ~50 ms of CPU
// per payment at 1,000,000 rounds on this lab's machines.

/** A risk score in [0, 1) for one payment; the cost grows linearly with `rounds`. */
export function scoreFraudRisk(orderId: string, amountCents: number, rounds: number): number {
  let h = 0x811c9dc5;
  for (let r = 0; r < rounds; r++) {
    // FNV-1a over the order id, salted by the round: what a "compare with past order r" costs.
    for (let i = 0; i < orderId.length; i++) {
      h ^= orderId.charCodeAt(i) ^ r;
      h = Math.imul(h, 0x01000193);
    }
    h ^= amountCents;
  }
  return (h >>> 0) / 2 ** 32;
}
