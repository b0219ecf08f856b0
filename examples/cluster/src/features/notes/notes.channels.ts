import type { ChannelRule } from '../../scaling/realtime/index.js';

/** Every note created, as a `note.created` event (the demo page listens). */
export const NOTES_CHANNEL = 'notes';

/** The realtime channels of this feature: anyone who may open a stream may follow `notes`. */
export const notesChannels: ChannelRule[] = [{ match: NOTES_CHANNEL }];
