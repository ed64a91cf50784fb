import { z } from 'zod';

/** An amount of Korean won: a non-negative integer (KRW has no minor unit). Prices are VAT-inclusive. */
export const Krw = z.number().int().nonnegative().max(1_000_000_000_000);
export type Krw = z.infer<typeof Krw>;

/** The VAT (10%) contained in a VAT-inclusive price: round(price × 10 / 110). */
export function vatPortion(priceKrw: number): number {
  assertKrw(priceKrw);
  return Math.round((priceKrw * 10) / 110);
}

/** The supply value (price before VAT) of a VAT-inclusive price. */
export function supplyValue(priceKrw: number): number {
  return priceKrw - vatPortion(priceKrw);
}

export function assertKrw(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount < 0) {
    throw new RangeError(`not a KRW amount: ${amount}`);
  }
}

/** "₩55,000" style, for messages and docs only (the UI formats with next-intl). */
export function formatKrw(amount: number): string {
  return `₩${amount.toLocaleString('en-US')}`;
}
