import { NextResponse } from 'next/server';
import { currentUser } from '@/lib/auth/guard';
import { projectionsStatus } from '@/lib/queries/projections';

export const dynamic = 'force-dynamic';

/** Live status for /admin/projections (polled by its client component). Admins only. */
export async function GET() {
  const user = await currentUser();
  if (!user) return NextResponse.json({ error: 'unauthenticated' }, { status: 401 });
  if (user.role !== 'admin') return NextResponse.json({ error: 'forbidden' }, { status: 403 });
  const status = await projectionsStatus();
  return NextResponse.json(status, { headers: { 'cache-control': 'no-store' } });
}
