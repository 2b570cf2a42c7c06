// A small modal for the confirmations and the one-field forms (rename, reset offset).
import type { ComponentChildren } from 'preact';

export function Dialog(props: { title: string; onClose: () => void; children: ComponentChildren }) {
  return (
    // A click beside the dialog closes it, as Escape does (the keyboard's way, handled on the dialog).
    // biome-ignore lint/a11y/noStaticElementInteractions: the backdrop is a pointer convenience only
    // biome-ignore lint/a11y/useKeyWithClickEvents: Escape on the dialog is the keyboard equivalent
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && props.onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-label={props.title} onKeyDown={(e) => e.key === 'Escape' && props.onClose()}>
        <h2>{props.title}</h2>
        {props.children}
      </div>
    </div>
  );
}
