import type { ReactNode } from 'react';
import { BASE, onLinkClick } from '../router';

export function Link({ to, children, className, current }: { to: string; children: ReactNode; className?: string; current?: boolean }) {
  return (
    <a href={`${BASE}${to}`} onClick={onLinkClick} className={className} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}
