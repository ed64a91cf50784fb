/** One stored seal as a JSON file to keep elsewhere (auditors only; lib/queries/integrity.ts sealDownload). */
import { NextResponse } from 'next/server';
import { auditScopeOf } from '@/lib/auth/audit-scope';
import { currentUser } from '@/lib/auth/guard';
import { sealDownload } from '@/lib/queries/integrity';

export const dynamic = 'force-dynamic';

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const user = await currentUser();
  if (!user) return NextResponse.json({ error: 'unauthenticated' }, { status: 401 });
  const scope = auditScopeOf(user);
  if (!scope || scope.clinicId !== null) return NextResponse.json({ error: 'forbidden' }, { status: 403 });
  const { id } = await params;
  if (!/^\d{1,15}$/.test(id)) return NextResponse.json({ error: 'not found' }, { status: 404 });
  const file = await sealDownload(Number(id));
  if (!file) return NextResponse.json({ error: 'not found' }, { status: 404 });
  return new Response(`${JSON.stringify(file, null, 2)}\n`, {
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'content-disposition': `attachment; filename="yeyak-seal-${id}-${file.seal.issuedAt.replace(/[:.]/g, '-')}.json"`,
      'cache-control': 'no-store',
    },
  });
}
