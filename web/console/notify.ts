/**
 * Getting an agent's attention: the tab's title counts what is unread
 * ("(3) Byrd console"), and a short tone plays for a new chat or a new
 * message the agent is not looking at. The tone is synthesised with Web
 * Audio, so there is no sound file to serve; browsers allow it once the
 * agent has interacted with the page (the login does). The agent may turn
 * it off; the choice is kept in this browser.
 */
const TITLE = "Byrd console";
const SOUND_KEY = "byrd-console:sound";

let audio: AudioContext | null = null;

export function soundEnabled(): boolean {
  try {
    return localStorage.getItem(SOUND_KEY) !== "off";
  } catch {
    return true;
  }
}

export function setSoundEnabled(on: boolean): void {
  try {
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  } catch {
    // Kept for this page only.
  }
}

/** Shows the unread count in the tab's title. */
export function showUnread(count: number): void {
  document.title = count > 0 ? `(${count}) ${TITLE}` : TITLE;
}

/** A short two-note chime, when sound is on. */
export function chime(): void {
  if (!soundEnabled()) return;
  try {
    audio ??= new AudioContext();
    const start = audio.currentTime;
    for (const [offset, frequency] of [
      [0, 880],
      [0.12, 1320],
    ] as const) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.08, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.25);
      tone.connect(gain).connect(audio.destination);
      tone.start(start + offset);
      tone.stop(start + offset + 0.25);
    }
  } catch {
    // No audio here: the title still tells.
  }
}
