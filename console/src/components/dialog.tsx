// A small modal for the confirmations and the one-field forms (rename, reset offset).
import type { ComponentChildren } from 'preact';

export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren }) {
  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-label={props.title} onKeyDown={(e) => e.key === 'Escape' && props.onClose()}>
        <h2>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}
