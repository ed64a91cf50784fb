/** What a change will cost, as a small statement (server-rendered from the domain's own decision). */
export function CostPreview({
  lines,
  note,
  late,
}: {
  lines: ReadonlyArray<{ label: string; amount: string; testId: string; strong?: boolean }>;
  note: string;
  late: boolean;
}) {
  return (
    <section className={`rounded-lg border p-4 ${late ? 'border-amber-300 bg-amber-50' : 'border-stone-200 bg-white'}`} data-testid="cost-preview" aria-live="polite">
      <dl className="grid grid-cols-[1fr_auto] gap-x-6 gap-y-1 text-sm">
        {lines.map((l) => (
          <div key={l.testId} className="contents">
            <dt className={l.strong ? 'font-semibold' : ''}>{l.label}</dt>
            <dd className={`text-right tabular-nums ${l.strong ? 'font-semibold' : ''}`} data-testid={l.testId}>
              {l.amount}
            </dd>
          </div>
        ))}
      </dl>
      <p className="mt-2 text-sm text-stone-700">{note}</p>
    </section>
  );
}
