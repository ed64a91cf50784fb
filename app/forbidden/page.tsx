import { forbidden } from 'next/navigation';

/** The proxy sends refused requests here; this renders app/forbidden.tsx with status 403. */
export default function ForbiddenPage() {
  forbidden();
}
